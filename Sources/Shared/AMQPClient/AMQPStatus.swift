internal import CRabbitMQ
import Core

/// Turns rabbitmq-c status codes and RPC replies into `WorkQueueError`s: the one funnel through
/// which every C return code of the AMQP layer passes. Errors say what failed and set a
/// `Remedy`; the words for it (flags, environment variables) are the executables' to choose.
enum AMQPStatus {
    /// Throws unless `status` is AMQP_STATUS_OK.
    static func check(_ status: Int32, _ what: String, endpoint: String, connecting: Bool = false) throws(WorkQueueError) {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw error(status: status, what, endpoint: endpoint, connecting: connecting)
    }

    /// The error for a library status code. While `connecting`, socket errors and timeouts mean
    /// the broker is unreachable (exit 69); later they mean a lost connection.
    static func error(status: Int32, _ what: String, endpoint: String, connecting: Bool = false) -> WorkQueueError {
        let text = String(cString: amqp_error_string2(status))
        switch status {
        case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue:
            return .init(.unavailable, "\(what): cannot resolve the broker host \(endpoint)", remedy: .checkHost)
        case AMQP_STATUS_SOCKET_ERROR.rawValue where connecting:
            return .init(.unavailable, "\(what): cannot connect to the broker at \(endpoint) (\(text))", remedy: .checkBrokerRunning)
        case AMQP_STATUS_TIMEOUT.rawValue where connecting:
            return .init(.unavailable, "\(what): the broker at \(endpoint) did not answer in time", remedy: .raiseConnectTimeout)
        case AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue,
            AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue:
            return .init(.unavailable, "\(what): TLS with \(endpoint) failed (\(text))", remedy: .checkTLS)
        case AMQP_STATUS_CONNECTION_CLOSED.rawValue, AMQP_STATUS_SOCKET_ERROR.rawValue,
            AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue, AMQP_STATUS_SOCKET_CLOSED.rawValue:
            return .init(.connectionLost, "\(what): connection to \(endpoint) lost (\(text))")
        case AMQP_STATUS_TIMEOUT.rawValue:
            // An RPC without an answer: the broker (or the path to it) went silent.
            return .init(.connectionLost, "\(what): no answer from the broker at \(endpoint) in time; giving the connection up")
        default:
            return .failure("\(what): \(text)")
        }
    }

    /// Throws unless an RPC reply is normal; server closes carry the broker's reason.
    static func check(_ reply: amqp_rpc_reply_t, _ what: String, endpoint: String, connecting: Bool = false) throws(WorkQueueError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw error(status: libraryStatus(reply), what, endpoint: endpoint, connecting: connecting)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            throw serverError(reply.reply, what, endpoint: endpoint)
        default:
            throw WorkQueueError.failure("\(what): no reply from the broker at \(endpoint)")
        }
    }

    /// The (negative) status code of a library exception; old releases stored it negated.
    static func libraryStatus(_ reply: amqp_rpc_reply_t) -> Int32 {
        reply.library_error > 0 ? -reply.library_error : reply.library_error
    }

    /// The reply code of a channel.close the broker sent instead of a reply, if it did.
    static func channelCloseCode(_ reply: amqp_rpc_reply_t) -> UInt16? {
        guard reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION, reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD else { return nil }
        return reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee.reply_code
    }

    /// The error for a server-sent connection.close or channel.close.
    static func serverError(_ method: amqp_method_t, _ what: String, endpoint: String) -> WorkQueueError {
        switch method.id {
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return closeError(code: close.reply_code, reason: AMQPBytes.string(close.reply_text), what, endpoint: endpoint, connection: true)
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return closeError(code: close.reply_code, reason: AMQPBytes.string(close.reply_text), what, endpoint: endpoint, connection: false)
        default:
            return .failure("\(what): unexpected reply from the broker (method 0x\(String(method.id, radix: 16)))")
        }
    }

    /// The error for a close with reply `code` and the broker's `reason`, of the whole
    /// connection or (not `connection`) of one channel.
    static func closeError(code: UInt16, reason: String, _ what: String, endpoint: String, connection: Bool) -> WorkQueueError {
        let scope = connection ? "connection" : "channel"
        switch code {
        case 403 where connection && what.hasPrefix("login"):
            return .init(.accessRefused, "\(what): access refused by the broker at \(endpoint): \(reason)", remedy: .checkCredentials)
        case 403:
            // After login the credentials were fine: a permission is missing, not a password.
            let operation = String(what.prefix { $0 != " " && $0 != ":" })
            let text = AccessRefusal(operation: operation, brokerReason: reason)?.text ?? reason
            return .init(.accessRefused, "\(what): access refused by the broker at \(endpoint): \(text)", remedy: .grantPermission)
        case 530 where connection:
            return .init(.accessRefused, "\(what): the broker at \(endpoint) refused the vhost: \(reason)", remedy: .checkVhost)
        case 320:
            return .init(.connectionLost, "\(what): the broker at \(endpoint) is shutting down: \(reason)")
        case 406 where isConsumerTimeout(reason):
            // Said in the message itself (no flag names it): the processor's reconnect line,
            // which shows no remedies, must name consumer_timeout (docs/processor.md, "long items").
            var error = WorkQueueError.failure(
                "\(what): \(scope) closed by broker: \(reason) (an item stayed unacknowledged longer than the broker's consumer_timeout; raise it on the broker or shorten the work)")
            error.cause = .consumerTimeout(ConsumerTimeout(closeText: reason))
            return error
        case 406:
            return .init(.failure, "\(what): \(scope) closed by broker: \(reason)", remedy: .queueSettingsDiffer)
        case 404:
            return .failure("\(what): \(scope) closed by broker: \(reason)")
        default:
            return .init(connection ? .connectionLost : .failure, "\(what): \(scope) closed by broker: \(code) \(reason)")
        }
    }

    /// RabbitMQ's PRECONDITION_FAILED for a delivery unacknowledged past `consumer_timeout`.
    static func isConsumerTimeout(_ reason: String) -> Bool { ConsumerTimeout.isConsumerTimeout(reason) }
}

/// Copies between Swift and `amqp_bytes_t`.
enum AMQPBytes {
    static func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let base = bytes.bytes else { return "" }
        let buffer = UnsafeRawBufferPointer(start: base, count: bytes.len)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// A malloc'd copy the caller frees with `amqp_bytes_free`.
    static func copy(_ string: String) -> amqp_bytes_t {
        var utf8 = Array(string.utf8)
        return utf8.withUnsafeMutableBytes { buffer in
            var source = amqp_bytes_t(len: buffer.count, bytes: buffer.baseAddress)
            if buffer.count == 0 { source.bytes = nil }
            return amqp_bytes_malloc_dup(source)
        }
    }
}
