import Core

/// The one line a tool prints for an error that ends it: `tool: message`. Errors from the layers
/// below say what failed and name what the user can do as a `WorkQueueError.Remedy`; the words
/// of the command line (flags, environment variables) that tell the user what to do next are
/// added here, in one place for all three tools.
package enum ErrorReport {
    package static func line(tool: String, _ error: WorkQueueError) -> String {
        "\(tool): " + error.phrased(phrase)
    }

    /// `text` (what failed) with `remedy` said in the tools' words.
    package static func phrase(_ text: String, _ remedy: WorkQueueError.Remedy) -> String {
        switch remedy {
        case .checkHost: return text + "; check WORK_QUEUE_HOST or --host"
        case .checkBrokerRunning: return text + "; is RabbitMQ running and the port right?"
        case .raiseConnectTimeout: return text + "; check the address or raise --connect-timeout"
        case .checkTLS: return text + "; check --cacert, or --insecure to skip verification"
        case .checkCACertificateFile: return "--cacert " + text
        case .checkCredentials: return text + "; check the user, password and vhost"
        case .checkVhost: return text + "; check WORK_QUEUE_VHOST or --vhost"
        case .queueSettingsDiffer: return text + "; an existing queue or exchange has other settings (for example --queue-type)"
        case .grantPermission:
            return text + "; an administrator grants it with rabbitmqctl set_permissions (what each tool needs: docs/permissions.md)"
        case .declareTopology:
            return text
                + "; declare the queues once as a user who may (loader --declare-only), or grant configure permission (docs/permissions.md)"
        }
    }
}
