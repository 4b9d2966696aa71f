internal import CRabbitMQ
#if canImport(Glibc)
import Glibc
#endif
import Core

/// The parts of an `amqp://` or `amqps://` URL, parsed by rabbitmq-c's own `amqp_parse_url`.
package struct AMQPURL: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var user: String
    package var password: Secret
    package var vhost: String
    package var tls: Bool

    /// Parses `url`; errors name `source` (the flag or variable) and never echo the URL itself,
    /// which may hold a password.
    package static func parse(_ url: String, source: String) throws(WorkQueueError) -> AMQPURL {
        guard let buffer = strdup(url) else { throw WorkQueueError.failure("out of memory") }
        defer { free(buffer) }
        var info = amqp_connection_info()
        amqp_default_connection_info(&info)
        let status = amqp_parse_url(buffer, &info)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw WorkQueueError.usage(
                "\(source) is not a valid amqp:// or amqps:// URL (amqp://user:pass@host:port/vhost); "
                    + "the value is not shown because it may hold a password")
        }
        let host = String(cString: info.host)
        guard !host.isEmpty else {
            throw WorkQueueError.usage("\(source) names no host (amqp://user:pass@host:port/vhost)")
        }
        let vhost = String(cString: info.vhost)
        return AMQPURL(
            host: host,
            port: Int(info.port),
            user: String(cString: info.user),
            password: Secret(String(cString: info.password)),
            vhost: vhost.isEmpty ? "/" : vhost,
            tls: info.ssl != 0)
    }
}
