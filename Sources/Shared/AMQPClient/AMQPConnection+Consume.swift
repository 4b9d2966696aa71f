internal import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform

/// What waiting on the work channel produced.
package enum ConsumerEvent: Sendable, Equatable {
    case delivery(Delivery)
    /// The broker cancelled our consumer (the queue was deleted, or a quorum queue lost its leader).
    case cancelledByBroker
}

extension AMQPConnection {
    /// Limits how many unacknowledged items the broker hands this consumer.
    package func setPrefetch(_ count: Int) throws(WorkQueueError) {
        let state = try live("basic.qos")
        _ = amqp_basic_qos(state, Self.workChannel, 0, UInt16(clamping: count), 0)
        try check(amqp_get_rpc_reply(state), "basic.qos", channel: Self.workChannel)
    }

    /// Starts consuming on the work channel, with manual acknowledgements unless `acknowledge`
    /// is false, exclusively if asked (wqtop's own queue); returns the consumer tag.
    package func consume(queue: String, acknowledge: Bool = true, exclusive: Bool = false) throws(WorkQueueError) -> String {
        try consume(queue: queue, acknowledge: acknowledge, exclusive: exclusive, channel: Self.workChannel)
    }

    /// Registers a consumer on `queue` that only stands there to be counted by passive
    /// declares (a processor that stops while it still holds items; a live holder's pulse): on a
    /// channel of its own (`markerChannel`, `pulseChannel`), without acknowledgements; whatever it
    /// might receive is dropped. Returns the tag.
    package func standAsConsumer(of queue: String, channel: UInt16 = markerChannel) throws(WorkQueueError) -> String {
        if !openChannels.contains(channel) { try openChannel(channel) }
        return try consume(queue: queue, acknowledge: false, exclusive: false, channel: channel)
    }

    private func consume(queue: String, acknowledge: Bool, exclusive: Bool, channel: UInt16) throws(WorkQueueError) -> String {
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

    /// Cancels a consumer (of the work channel unless `channel` says otherwise). Deliveries the
    /// broker sent before the cancel still arrive.
    package func cancel(consumerTag: String, channel: UInt16 = workChannel) throws(WorkQueueError) {
        let state = try live("basic.cancel")
        // A channel the broker closed took its consumer with it (and a cancel there would be a
        // connection error).
        guard openChannels.contains(channel) else { return }
        _ = consumerTag.withCString { amqp_basic_cancel(state, channel, amqp_cstring_bytes($0)) }
        try check(amqp_get_rpc_reply(state), "basic.cancel", channel: channel)
    }

    /// Acknowledges a delivery (and, with `multiple`, every earlier one).
    package func ack(_ tag: UInt64, multiple: Bool = false) throws(WorkQueueError) {
        let state = try live("basic.ack")
        let status = amqp_basic_ack(state, Self.workChannel, tag, multiple ? 1 : 0)
        if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "basic.ack") }
    }

    /// Waits up to `timeout` (zero: only what is already here) for the next event on the
    /// work channel, servicing heartbeats meanwhile. Returns nil when nothing arrived. Every
    /// frame goes through the connection's one router (`route`), which assembles deliveries
    /// and handles whatever else arrives (confirms, closes, connection.blocked).
    package func nextEvent(timeout: Duration) throws(WorkQueueError) -> ConsumerEvent? {
        let state = try live("basic.consume")
        if !stashed.isEmpty { return stashed.removeFirst() }
        // Not while frames wait in rabbitmq-c's queue (they arrived during an RPC, e.g. a burst of
        // events during wqtop's passive declare): it would walk that whole list on every call.
        if amqp_frames_enqueued(state) == 0 { amqp_maybe_release_buffers(state) }
        let deadline = MonotonicClock.now() + timeout
        while stashed.isEmpty {
            let left = max(.zero, deadline - MonotonicClock.now())
            guard try receiveFrame(waiting: left, "basic.consume", during: "basic.consume") else { return nil }
        }
        return stashed.removeFirst()
    }
}
