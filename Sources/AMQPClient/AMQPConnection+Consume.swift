internal import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif
import Core

/// What waiting on the work channel produced.
package enum ConsumerEvent: Sendable, Equatable {
    case delivery(Delivery)
    /// The broker cancelled our consumer (the queue was deleted, or a quorum queue lost its leader).
    case cancelledByBroker
}

extension AMQPConnection {
    /// Limits how many unacknowledged items the broker hands this consumer.
    package func setPrefetch(_ count: Int) throws {
        let state = try live("basic.qos")
        _ = amqp_basic_qos(state, Self.workChannel, 0, UInt16(clamping: count), 0)
        try check(amqp_get_rpc_reply(state), "basic.qos", channel: Self.workChannel)
    }

    /// Starts consuming on the work channel, with manual acknowledgements unless `acknowledge`
    /// is false, exclusively if asked (wqtop's own queue); returns the consumer tag.
    package func consume(queue: String, acknowledge: Bool = true, exclusive: Bool = false) throws -> String {
        try consume(queue: queue, acknowledge: acknowledge, exclusive: exclusive, channel: Self.workChannel)
    }

    /// Registers a consumer on `queue` that only stands there to be counted by passive
    /// declares (a processor that stops while it still holds items): on a channel of its own,
    /// without acknowledgements; whatever it might receive is dropped. Returns the tag.
    package func standAsConsumer(of queue: String) throws -> String {
        if !openChannels.contains(Self.markerChannel) { try openChannel(Self.markerChannel) }
        return try consume(queue: queue, acknowledge: false, exclusive: false, channel: Self.markerChannel)
    }

    private func consume(queue: String, acknowledge: Bool, exclusive: Bool, channel: UInt16) throws -> String {
        let state = try live("basic.consume")
        let automatic: amqp_boolean_t = acknowledge ? 0 : 1
        let ok = queue.withCString { cQueue in
            amqp_basic_consume(
                state, channel, amqp_cstring_bytes(cQueue), amqp_empty_bytes, 0, automatic, exclusive ? 1 : 0, amqp_empty_table)
        }
        try check(amqp_get_rpc_reply(state), "basic.consume '\(queue)'", channel: channel)
        guard let ok else { throw WorkQueueError.failure("basic.consume '\(queue)': no reply") }
        return AMQPBytes.string(ok.pointee.consumer_tag)
    }

    /// Cancels a consumer. Deliveries the broker sent before the cancel still arrive.
    package func cancel(consumerTag: String) throws {
        let state = try live("basic.cancel")
        _ = consumerTag.withCString { amqp_basic_cancel(state, Self.workChannel, amqp_cstring_bytes($0)) }
        try check(amqp_get_rpc_reply(state), "basic.cancel", channel: Self.workChannel)
    }

    /// Acknowledges a delivery (and, with `multiple`, every earlier one).
    package func ack(_ tag: UInt64, multiple: Bool = false) throws {
        let state = try live("basic.ack")
        let status = amqp_basic_ack(state, Self.workChannel, tag, multiple ? 1 : 0)
        if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "basic.ack") }
    }

    /// Waits up to `timeout` seconds (0: only what is already here) for the next event on the
    /// work channel, servicing heartbeats meanwhile. Returns nil when nothing arrived.
    package func nextEvent(timeout: Double) throws -> ConsumerEvent? {
        let state = try live("basic.consume")
        if !stashed.isEmpty { return stashed.removeFirst() }
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var tv = timeval(seconds: timeout)
        let reply = amqp_consume_message(state, &envelope, &tv, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            // Only the work channel's consumers hand out work (the stopping marker consumes nothing).
            guard envelope.channel == Self.workChannel else { return nil }
            let properties = envelope.message.properties
            let hasHeaders = properties._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0
            return .delivery(
                Delivery(
                    tag: envelope.delivery_tag,
                    body: AMQPBytes.array(envelope.message.body),
                    redelivered: envelope.redelivered != 0,
                    headers: hasHeaders ? AMQPTable.read(properties.headers) : [:],
                    properties: properties._flags == amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG) ? MessageProperties() : MessageProperties(properties)))
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let status = AMQPStatus.libraryStatus(reply)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if status == AMQP_STATUS_UNEXPECTED_STATE.rawValue { return try readOtherFrame(state) }
            throw fail(status: status, "basic.consume")
        default:
            throw WorkQueueError.failure("basic.consume: unexpected reply from \(endpoint)")
        }
    }

    /// Handles a frame that is not a delivery: a close, a broker cancel, a late confirm.
    private func readOtherFrame(_ state: amqp_connection_state_t) throws -> ConsumerEvent? {
        var frame = amqp_frame_t()
        let status = amqp_simple_wait_frame(state, &frame)
        if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "basic.consume") }
        if Self.sideChannels.contains(frame.channel) {
            handleSideChannelFrame(frame)
            return nil
        }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return nil }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_CANCEL_METHOD:
            return .cancelledByBroker
        case AMQP_BASIC_ACK_METHOD where frame.channel == Self.publishChannel:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirms[Self.publishChannel]?.acknowledge(tag: ack.delivery_tag, multiple: ack.multiple != 0)
            return nil
        case AMQP_CHANNEL_CLOSE_METHOD:
            try channelClosed(method, channel: frame.channel, "basic.consume")
        case AMQP_CONNECTION_CLOSE_METHOD, AMQP_CONNECTION_BLOCKED_METHOD, AMQP_CONNECTION_UNBLOCKED_METHOD:
            try handleConnectionFrame(method, state, "basic.consume")
            return nil
        default:
            return nil
        }
    }

    /// A frame of the work channel read while waiting for something else.
    func handleWorkFrame(_ frame: amqp_frame_t, _ state: amqp_connection_state_t) throws {
        if frame.frame_type == UInt8(AMQP_FRAME_METHOD) {
            switch frame.payload.method.id {
            case AMQP_BASIC_CANCEL_METHOD:
                stashed.append(.cancelledByBroker)
                return
            case AMQP_CHANNEL_CLOSE_METHOD:
                try channelClosed(frame.payload.method, channel: frame.channel, "basic.consume")
            default:
                break
            }
        }
        if let delivery = assembler.feed(frame) { stashed.append(.delivery(delivery)) }
    }

    /// The broker closed a channel: acknowledge the close and report the connection as lost, so
    /// the caller reconnects (the broker requeues everything the channel held).
    func channelClosed(_ method: amqp_method_t, channel: UInt16, _ what: String) throws -> Never {
        var error = acceptChannelClose(method, channel: channel, what)
        if error.message.contains("acknowledgement") && error.message.contains("timed out") {
            error.message += " (an item stayed unacknowledged longer than the broker's consumer_timeout; raise it on the broker or shorten the work)"
        }
        abandon()
        throw WorkQueueError(.connectionLost, error.message)
    }

    /// A method on channel 0: connection.blocked / unblocked (a resource alarm) are noted in
    /// `blockedReason`; a connection.close is answered and reported.
    func handleConnectionFrame(_ method: amqp_method_t, _ state: amqp_connection_state_t, _ what: String) throws {
        if method.id == AMQP_CONNECTION_BLOCKED_METHOD {
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            let reason = AMQPBytes.string(blocked.reason)
            blockedReason = reason.isEmpty ? "a resource alarm" : reason
            return
        }
        if method.id == AMQP_CONNECTION_UNBLOCKED_METHOD {
            blockedReason = nil
            return
        }
        guard method.id == AMQP_CONNECTION_CLOSE_METHOD else { return }
        var closeOK = amqp_connection_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &closeOK)
        let error = AMQPStatus.serverError(method, what, endpoint: endpoint)
        abandon()
        throw WorkQueueError(error.kind == .accessRefused ? .accessRefused : .connectionLost, error.message)
    }
}
