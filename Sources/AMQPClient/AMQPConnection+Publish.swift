internal import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif
import Core

extension AMQPConnection {
    /// Puts the publish channel in confirm mode; publishes on it are then counted in `confirmTracker`.
    package func enableConfirms() throws {
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
    ) throws {
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
    /// broker blocks the connection (a resource alarm) it waits without a limit and tells
    /// `whileBlocked` the reason about once a second; otherwise no confirm for `confirmTimeout`
    /// seconds is a lost connection.
    package func waitForConfirms(untilOutstanding outstanding: UInt64 = 0, whileBlocked: ((String) -> Void)? = nil) throws {
        let state = try live("wait for confirms")
        var silent = 0.0
        while (confirms[Self.publishChannel]?.outstanding ?? 0) > outstanding {
            var frame = amqp_frame_t()
            var timeout = timeval(seconds: 1)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue, let reason = blockedReason {
                silent = 0
                whileBlocked?(reason)
                continue
            }
            if status == AMQP_STATUS_TIMEOUT.rawValue && silent + 1 < Self.confirmTimeout {
                silent += 1
                continue
            }
            silent = 0
            if status == AMQP_STATUS_TIMEOUT.rawValue {
                // A silent broker: given up like a lost connection, so the caller reconnects
                // and publishes the unconfirmed again.
                let error = WorkQueueError(.connectionLost,
                    "basic.publish: no confirm from the broker at \(endpoint) within \(Int(Self.confirmTimeout)) s; \(confirmTracker.confirmedCount) were confirmed")
                abandon()
                throw error
            }
            if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "wait for publisher confirms") }
            try handlePublisherFrame(frame, state)
        }
        if !hasBufferedInput { amqp_maybe_release_buffers(state) }
    }

    /// Reads, without waiting, whatever the broker sent so far: confirms, connection.blocked and
    /// unblocked, returned messages. Errors as `waitForConfirms`. With `heartbeats`, it also
    /// looks once when nothing is readable, so rabbitmq-c sends its heartbeat and notices a
    /// broker silent for two heartbeat intervals (a lost connection).
    package func readAvailable(heartbeats: Bool = false) throws {
        let state = try live("read publisher confirms")
        var look = heartbeats
        while look || hasBufferedInput || socketReadable() {
            look = false
            var frame = amqp_frame_t()
            var timeout = timeval(seconds: 0)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "read publisher confirms") }
            try handlePublisherFrame(frame, state)
        }
        if !hasBufferedInput { amqp_maybe_release_buffers(state) }
    }

    private func socketReadable() -> Bool {
        var fds = [pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)]
        return fds[0].fd >= 0 && poll(&fds, 1, 0) > 0
    }

    /// One frame read while publishing: a confirm, a nack, a returned message, a close or a
    /// connection.blocked; deliveries of the work channel are kept for `nextEvent`.
    private func handlePublisherFrame(_ frame: amqp_frame_t, _ state: amqp_connection_state_t) throws {
        if frame.channel == Self.workChannel {
            try handleWorkFrame(frame, state)
            return
        }
        if Self.sideChannels.contains(frame.channel) {
            handleSideChannelFrame(frame)
            return
        }
        if frame.channel == 0 && frame.frame_type == UInt8(AMQP_FRAME_METHOD) {
            try handleConnectionFrame(frame.payload.method, state, "basic.publish")
        }
        guard frame.channel == Self.publishChannel, frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_ACK_METHOD:
            // A returned message is confirmed too, but it was stored nowhere: its tag (and any
            // this ack covers) stays unconfirmed, so nobody acknowledges an original for it.
            if let returned = returnedMessage {
                returnedMessage = nil
                confirms[Self.publishChannel]?.fail()
                throw WorkQueueError.failure(returned)
            }
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirms[Self.publishChannel]?.acknowledge(tag: ack.delivery_tag, multiple: ack.multiple != 0)
        case AMQP_BASIC_NACK_METHOD:
            // The broker could not store it: a quorum queue electing a new leader after a node
            // died nacks for a moment. Given up like a lost connection, so the caller reconnects
            // (with backoff, within --reconnect-timeout) and publishes the unconfirmed again.
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirms[Self.publishChannel]?.fail()
            let error = WorkQueueError(.connectionLost,
                "basic.publish: the broker at \(endpoint) could not store message #\(nack.delivery_tag) (nack; a quorum queue without a leader for a moment?); \(confirmTracker.confirmedCount) were confirmed")
            abandon()
            throw error
        case AMQP_BASIC_RETURN_METHOD:
            let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            returnedMessage =
                "basic.publish: the broker returned a message: \(ret.reply_code) \(AMQPBytes.string(ret.reply_text)) (routing key '\(AMQPBytes.string(ret.routing_key))'); was the queue deleted?"
            try skipContent(state, after: frame)
        case AMQP_CHANNEL_CLOSE_METHOD:
            let error = acceptChannelClose(method, channel: Self.publishChannel, "basic.publish")
            throw WorkQueueError(error.kind, error.message + "; \(confirmTracker.confirmedCount) were confirmed")
        default:
            return
        }
    }

    /// Seconds to wait for a publisher confirm before giving up.
    package static let confirmTimeout = 60.0

    /// Reads and drops the header and body frames that follow a basic.return.
    private func skipContent(_ state: amqp_connection_state_t, after returnFrame: amqp_frame_t) throws {
        var remaining: UInt64?
        while remaining != 0 {
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame(state, &frame)
            if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "basic.return") }
            if frame.channel == Self.workChannel {
                try handleWorkFrame(frame, state)
                continue
            }
            if Self.sideChannels.contains(frame.channel) { handleSideChannelFrame(frame) }
            guard frame.channel == returnFrame.channel else { continue }
            if frame.frame_type == UInt8(AMQP_FRAME_HEADER) {
                remaining = frame.payload.properties.body_size
            } else if frame.frame_type == UInt8(AMQP_FRAME_BODY), let left = remaining {
                remaining = left - min(left, UInt64(frame.payload.body_fragment.len))
            } else {
                return
            }
        }
    }
}
