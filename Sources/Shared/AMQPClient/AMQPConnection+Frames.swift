internal import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif
import Core

extension AMQPConnection {
    /// Reads one frame, waiting up to `seconds` (0: only what is already here), and routes it.
    /// Returns false when none came in time. `what` names the read in errors; `during` names
    /// what the connection was doing, for a connection.close read here.
    func receiveFrame(waiting: Duration, _ what: String, during: String) throws(WorkQueueError) -> Bool {
        let state = try live(what)
        var frame = amqp_frame_t()
        var timeout = timeval(waiting)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return false }
        if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, what) }
        try route(frame, state, during: during)
        return true
    }

    /// The one dispatcher for frames read outside an RPC reply, whichever wait read them: work
    /// events are queued in `stashed` for `nextEvent`, confirms are counted, a nack, a returned
    /// message or a closed work, publish or whole connection is thrown, and an optional channel's
    /// close only switches that channel off. See `FrameRoute` for which frame goes where.
    func route(_ frame: amqp_frame_t, _ state: amqp_connection_state_t, during what: String) throws(WorkQueueError) {
        let isMethod = frame.frame_type == UInt8(AMQP_FRAME_METHOD)
        let method = frame.payload.method
        switch FrameRoute.of(channel: frame.channel, type: frame.frame_type, method: isMethod ? method.id : 0) {
        case .blocked:
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            let reason = AMQPBytes.string(blocked.reason)
            blockedReason = reason.isEmpty ? "a resource alarm" : reason
        case .unblocked:
            blockedReason = nil
        case .connectionClosed:
            var closeOK = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &closeOK)
            let error = AMQPStatus.serverError(method, what, endpoint: endpoint)
            abandon()
            throw error.reclassified(as: error.kind == .accessRefused ? .accessRefused : .connectionLost)
        case .delivery:
            if let delivery = assembler.feed(frame) { stashed.append(.delivery(delivery)) }
        case .consumerCancelled:
            stashed.append(.cancelledByBroker)
        case .workChannelClosed:
            try channelClosed(method, channel: frame.channel, "basic.consume")
        case .confirmed:
            // A returned message is confirmed too, but it was stored nowhere: its tag (and any
            // this ack covers) stays unconfirmed, so nobody acknowledges an original for it.
            if let returned = returnedMessage {
                returnedMessage = nil
                confirms[Self.publishChannel]?.fail()
                throw WorkQueueError.failure(returned)
            }
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirms[Self.publishChannel]?.acknowledge(tag: ack.delivery_tag, multiple: ack.multiple != 0)
        case .refused:
            // The broker could not store it: a quorum queue electing a new leader after a node
            // died nacks for a moment. Given up like a lost connection, so the caller reconnects
            // (with backoff, within its reconnect time) and publishes the unconfirmed again.
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirms[Self.publishChannel]?.fail()
            let error = WorkQueueError(.connectionLost,
                "basic.publish: the broker at \(endpoint) could not store message #\(nack.delivery_tag) (nack; a quorum queue without a leader for a moment?); \(confirmTracker.confirmedCount) were confirmed")
            abandon()
            throw error
        case .returned:
            // Its content header and body follow on the publish channel and are ignored; the
            // failure is reported with the ack that follows them.
            let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            returnedMessage =
                "basic.publish: the broker returned a message: \(ret.reply_code) \(AMQPBytes.string(ret.reply_text)) (routing key '\(AMQPBytes.string(ret.routing_key))'); was the queue deleted?"
        case .publishChannelClosed:
            let error = acceptChannelClose(method, channel: Self.publishChannel, "basic.publish")
            throw error.appending("; \(confirmTracker.confirmedCount) were confirmed")
        case .optionalChannelClosed:
            _ = acceptChannelClose(method, channel: frame.channel, "channel \(frame.channel)")
        case .ignored:
            return
        }
    }

    /// The broker closed the work channel: acknowledge the close and report the connection as
    /// lost, so the caller reconnects (the broker requeues everything the channel held).
    func channelClosed(_ method: amqp_method_t, channel: UInt16, _ what: String) throws(WorkQueueError) -> Never {
        let error = acceptChannelClose(method, channel: channel, what)
        abandon()
        throw error.reclassified(as: .connectionLost)
    }
}
