internal import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif
import Core

extension AMQPConnection {
    /// Puts the publish channel in confirm mode; publishes on it are then counted in `confirmTracker`.
    package func enableConfirms() throws(WorkQueueError) {
        let state = try live("confirm.select")
        _ = amqp_confirm_select(state, Self.publishChannel)
        try check(amqp_get_rpc_reply(state), "confirm.select", channel: Self.publishChannel)
        confirms[Self.publishChannel] = ConfirmTracker()
    }

    /// The confirm counts of the publish channel.
    package var confirmTracker: ConfirmTracker { confirms[Self.publishChannel] ?? ConfirmTracker() }

    /// Publishes one message on the publish channel. With `mandatory`, a message no queue takes
    /// comes back and `waitForConfirms` reports it. A copy of a received message passes its
    /// `properties`: its headers are kept except those in `headers` (which replace them) and
    /// `dropping`; a user id other than this connection's is left out (the broker refuses it).
    package func publish(
        exchange: String = "", routingKey: String, body: UnsafeRawBufferPointer, persistent: Bool = true,
        mandatory: Bool = true, properties given: MessageProperties = MessageProperties(),
        headers: [(String, HeaderValue)] = [], dropping: Set<String> = []
    ) throws(WorkQueueError) {
        let state = try live("basic.publish")
        var kept = given
        if kept.userID != nil && kept.userID != settings.user { kept.userID = nil }
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        properties.delivery_mode = persistent ? UInt8(AMQP_DELIVERY_PERSISTENT.rawValue) : UInt8(AMQP_DELIVERY_NONPERSISTENT.rawValue)
        let status: Int32 = AMQPTable.with(headers, over: kept.encodedHeaders, dropping: dropping) { table in
            if table.num_entries > 0 {
                properties._flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
                properties.headers = table
            }
            let payload = amqp_bytes_t(len: body.count, bytes: body.count == 0 ? nil : UnsafeMutableRawPointer(mutating: body.baseAddress))
            return kept.apply(to: &properties) { properties in
                exchange.withCString { cExchange in
                    routingKey.withCString { cKey in
                        amqp_basic_publish(
                            state, Self.publishChannel, amqp_cstring_bytes(cExchange), amqp_cstring_bytes(cKey),
                            mandatory ? 1 : 0, 0, &properties, payload)
                    }
                }
            }
        }
        if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "basic.publish") }
        if confirms[Self.publishChannel] != nil { _ = confirms[Self.publishChannel]!.recordPublish() }
    }

    /// Reads confirms until at most `outstanding` publishes are unconfirmed. A nack, a returned
    /// message or a closed channel is an error saying how many publishes were confirmed.
    /// Deliveries of the work channel that arrive meanwhile are kept for `nextEvent`. While the
    /// broker blocks the connection (a resource alarm) it waits, without a limit unless
    /// `blockedLimit` is given (then a lost connection), and tells `whileBlocked` the
    /// reason about once a second; otherwise no confirm for `confirmTimeout` is a lost
    /// connection.
    package func waitForConfirms(
        untilOutstanding outstanding: UInt64 = 0, blockedLimit: Duration? = nil, whileBlocked: ((String) -> Void)? = nil
    ) throws(WorkQueueError) {
        let state = try live("wait for confirms")
        let tick: Duration = .seconds(1)
        var silent: Duration = .zero
        var blocked: Duration = .zero
        while (confirms[Self.publishChannel]?.outstanding ?? 0) > outstanding {
            if try receiveFrame(waiting: tick, "wait for publisher confirms", during: "basic.publish") {
                silent = .zero
                continue
            }
            if let reason = blockedReason {
                silent = .zero
                blocked += tick
                if let blockedLimit, blocked >= blockedLimit {
                    // The copies may still be stored once the alarm ends: a duplicate at worst.
                    let error = WorkQueueError(.connectionLost,
                        "basic.publish: the broker at \(endpoint) blocks publishing (\(reason)) for \(Int(blockedLimit.inSeconds)) s; what was published may still be stored once it resumes")
                    abandon()
                    throw error
                }
                whileBlocked?(reason)
                continue
            }
            silent += tick
            if silent < Self.confirmTimeout { continue }
            // A silent broker: given up like a lost connection, so the caller reconnects and
            // publishes the unconfirmed again.
            let error = WorkQueueError(.connectionLost,
                "basic.publish: no confirm from the broker at \(endpoint) within \(Int(Self.confirmTimeout.inSeconds)) s; \(confirmTracker.confirmedCount) were confirmed")
            abandon()
            throw error
        }
        if !hasBufferedInput { amqp_maybe_release_buffers(state) }
    }

    /// Reads, without waiting, whatever the broker sent so far: confirms, connection.blocked and
    /// unblocked, returned messages. Errors as `waitForConfirms`. With `heartbeats`, it also
    /// looks once when nothing is readable, so rabbitmq-c sends its heartbeat and notices a
    /// broker silent for two heartbeat intervals (a lost connection).
    package func readAvailable(heartbeats: Bool = false) throws(WorkQueueError) {
        let state = try live("read publisher confirms")
        var look = heartbeats
        while look || hasBufferedInput || socketReadable() {
            look = false
            guard try receiveFrame(waiting: .zero, "read publisher confirms", during: "basic.publish") else { break }
        }
        if !hasBufferedInput { amqp_maybe_release_buffers(state) }
    }

    private func socketReadable() -> Bool {
        var fds = [pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)]
        return fds[0].fd >= 0 && poll(&fds, 1, 0) > 0
    }

    /// Seconds to wait for a publisher confirm before giving up.
    package static let confirmTimeout: Duration = .seconds(60)
}
