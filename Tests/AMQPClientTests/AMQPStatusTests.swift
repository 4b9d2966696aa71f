import CRabbitMQ
import Core
import Testing

@testable import AMQPClient

@Suite("rabbitmq-c statuses and broker closes become an error kind and a remedy, without CLI words")
struct AMQPStatusTests {
    typealias Remedy = WorkQueueError.Remedy

    func mapped(_ status: amqp_status_enum, connecting: Bool) -> WorkQueueError {
        AMQPStatus.error(status: status.rawValue, "connect", endpoint: "h:1", connecting: connecting)
    }

    @Test("while connecting, a failure to reach the broker is 'unavailable' with a remedy for what to check")
    func connectingStatuses() {
        let cases: [(amqp_status_enum, WorkQueueError.Kind, Remedy?)] = [
            (AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED, .unavailable, .checkHost),
            (AMQP_STATUS_SOCKET_ERROR, .unavailable, .checkBrokerRunning),
            (AMQP_STATUS_TIMEOUT, .unavailable, .raiseConnectTimeout),
            (AMQP_STATUS_SSL_ERROR, .unavailable, .checkTLS),
            (AMQP_STATUS_SSL_CONNECTION_FAILED, .unavailable, .checkTLS),
            (AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED, .unavailable, .checkTLS),
            (AMQP_STATUS_SSL_PEER_VERIFY_FAILED, .unavailable, .checkTLS),
            (AMQP_STATUS_CONNECTION_CLOSED, .connectionLost, nil),
            (AMQP_STATUS_SOCKET_CLOSED, .connectionLost, nil),
            (AMQP_STATUS_HEARTBEAT_TIMEOUT, .connectionLost, nil),
            (AMQP_STATUS_BAD_AMQP_DATA, .failure, nil),
            (AMQP_STATUS_NO_MEMORY, .failure, nil),
        ]
        for (status, kind, remedy) in cases {
            let error = mapped(status, connecting: true)
            #expect(error.kind == kind && error.remedy == remedy, "\(status): \(error.kind) \(String(describing: error.remedy))")
            #expect(error.message.hasPrefix("connect: "))
            #expect(!error.message.contains("--") && !error.message.contains("WORK_QUEUE"), "\(error.message)")
        }
    }

    @Test("once connected, socket errors and timeouts are a lost connection (the caller reconnects)")
    func connectedStatuses() {
        let cases: [(amqp_status_enum, WorkQueueError.Kind, Remedy?)] = [
            (AMQP_STATUS_SOCKET_ERROR, .connectionLost, nil),
            (AMQP_STATUS_TIMEOUT, .connectionLost, nil),
            (AMQP_STATUS_CONNECTION_CLOSED, .connectionLost, nil),
            (AMQP_STATUS_HEARTBEAT_TIMEOUT, .connectionLost, nil),
            (AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED, .unavailable, .checkHost),
            (AMQP_STATUS_SSL_ERROR, .unavailable, .checkTLS),
            (AMQP_STATUS_INVALID_PARAMETER, .failure, nil),
        ]
        for (status, kind, remedy) in cases {
            let error = mapped(status, connecting: false)
            #expect(error.kind == kind && error.remedy == remedy, "\(status): \(error.kind) \(String(describing: error.remedy))")
        }
        #expect(mapped(AMQP_STATUS_TIMEOUT, connecting: false).message == "connect: no answer from the broker at h:1 in time; giving the connection up")
    }

    @Test("connection.close and channel.close codes: refusals exit 77, shutdowns reconnect, mismatches fail")
    func closeCodes() {
        let cases: [(UInt16, Bool, String, WorkQueueError.Kind, Remedy?)] = [
            (403, true, "ACCESS_REFUSED - Login was refused", .accessRefused, .checkCredentials),
            (403, false, "ACCESS_REFUSED - operation not permitted", .accessRefused, .grantPermission),
            (530, true, "NOT_ALLOWED - vhost nope not found", .accessRefused, .checkVhost),
            (530, false, "NOT_ALLOWED - something", .failure, nil),
            (320, true, "CONNECTION_FORCED - broker forced connection closure", .connectionLost, nil),
            (320, false, "CONNECTION_FORCED - shutdown", .connectionLost, nil),
            (406, false, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type'", .failure, .queueSettingsDiffer),
            (406, false, "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out", .failure, nil),
            (404, false, "NOT_FOUND - no queue 'q'", .failure, nil),
            (541, true, "INTERNAL_ERROR", .connectionLost, nil),
            (504, false, "CHANNEL_ERROR", .failure, nil),
        ]
        for (code, connection, reason, kind, remedy) in cases {
            let what = code == 403 && connection ? "login" : "queue.declare 'q'"
            let error = AMQPStatus.closeError(code: code, reason: reason, what, endpoint: "h:1", connection: connection)
            #expect(error.kind == kind && error.remedy == remedy, "\(code) \(connection): \(error.kind) \(String(describing: error.remedy))")
            #expect(error.message.contains(reason), "\(error.message)")
            #expect(!error.message.contains("--") && !error.message.contains("WORK_QUEUE"), "\(error.message)")
        }
    }

    @Test("an access refusal after login names the permission and the object, never the password")
    func refusalAfterLogin() {
        let declare = AMQPStatus.closeError(
            code: 403, reason: "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'app'", "queue.declare 'q'",
            endpoint: "h:1", connection: false)
        #expect(declare.message == "queue.declare 'q': access refused by the broker at h:1: user 'app' has no configure permission on queue 'q' in vhost '/'")
        #expect(declare.kind == .accessRefused && declare.remedy == .grantPermission)
        let publish = AMQPStatus.closeError(
            code: 403, reason: "ACCESS_REFUSED - access to exchange 'amq.default' in vhost 'v' refused for user 'app'", "basic.publish",
            endpoint: "h:1", connection: false)
        #expect(publish.message.hasSuffix("user 'app' has no write permission on exchange 'amq.default' in vhost 'v'"))
        // A connection.close 403 after login (not during it) is not about the password either.
        let later = AMQPStatus.closeError(
            code: 403, reason: "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'app'", "basic.consume",
            endpoint: "h:1", connection: true)
        #expect(later.remedy == .grantPermission && later.message.contains("no read permission on queue 'q'"))
    }

    @Test("a consumer_timeout close names consumer_timeout in the message itself, which log lines show")
    func consumerTimeout() {
        let error = AMQPStatus.closeError(
            code: 406, reason: "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out", "basic.consume", endpoint: "h:1",
            connection: false)
        #expect(error.message.contains("consumer_timeout") && error.remedy == nil)
        #expect(error.cause == .consumerTimeout(nil), "no value named")
        let named = AMQPStatus.closeError(
            code: 406,
            reason: "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 5000 ms. This timeout value can be configured, see consumers doc guide to learn more",
            "basic.consume", endpoint: "h:1", connection: false)
        #expect(named.cause == .consumerTimeout(ConsumerTimeout(milliseconds: 5000)))
        #expect(named.reclassified(as: .connectionLost).cause == named.cause, "kept as the channel close becomes a lost connection")
        let other = AMQPStatus.closeError(code: 406, reason: "PRECONDITION_FAILED - inequivalent arg", "queue.declare", endpoint: "h:1", connection: false)
        #expect(other.cause == nil)
    }

    @Test("a server close read from the wire carries its code and reason")
    func serverCloseMethods() {
        let frames = FrameBuilder()
        let vhost = AMQPStatus.serverError(frames.close(connection: true, code: 530, reason: "NOT_ALLOWED - vhost v not found"), "login", endpoint: "h:1")
        #expect(vhost == WorkQueueError(.accessRefused, "login: the broker at h:1 refused the vhost: NOT_ALLOWED - vhost v not found", remedy: .checkVhost))
        let missing = AMQPStatus.serverError(frames.close(connection: false, code: 404, reason: "NOT_FOUND - no exchange 'e'"), "basic.publish", endpoint: "h:1")
        #expect(missing == .failure("basic.publish: channel closed by broker: NOT_FOUND - no exchange 'e'"))
        var other = amqp_method_t()
        other.id = AMQP_BASIC_ACK_METHOD
        #expect(AMQPStatus.serverError(other, "x", endpoint: "h:1").kind == .failure)
    }
}
