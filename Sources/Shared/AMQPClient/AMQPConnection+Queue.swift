internal import CRabbitMQ
import Core

extension AMQPConnection {
    /// Declares a durable queue with string arguments (`x-queue-type`, ...), creating it if needed.
    package func declareQueue(_ name: String, arguments: [(String, String)] = []) throws(WorkQueueError) -> QueueCounts {
        let state = try live("queue.declare")
        let channel = Self.workChannel
        let ok = AMQPTable.with(arguments.map { ($0.0, .string($0.1)) }) { table in
            name.withCString { cName in
                amqp_queue_declare(state, channel, amqp_cstring_bytes(cName), 0, 1, 0, 0, table)
            }
        }
        try check(amqp_get_rpc_reply(state), "queue.declare '\(name)'", channel: channel)
        guard let ok else { throw WorkQueueError.failure("queue.declare '\(name)': no reply") }
        return QueueCounts(ready: Int(ok.pointee.message_count), consumers: Int(ok.pointee.consumer_count))
    }

    /// A passive declare: the queue's counts, or nil when it does not exist. Never creates it.
    package func inspectQueue(_ name: String) throws(WorkQueueError) -> QueueCounts? {
        let state = try live("queue.declare (passive)")
        let channel = Self.inspectChannel
        if !openChannels.contains(channel) { try openChannel(channel) }
        let ok = name.withCString { cName in
            amqp_queue_declare(state, channel, amqp_cstring_bytes(cName), 1, 0, 0, 0, amqp_empty_table)
        }
        let reply = amqp_get_rpc_reply(state)
        if AMQPStatus.channelCloseCode(reply) == 404 {  // NOT_FOUND: the channel is re-opened next time
            _ = acceptChannelClose(reply.reply, channel: channel, "queue.declare (passive)")
            return nil
        }
        try check(reply, "queue.declare (passive) '\(name)'", channel: channel)
        guard let ok else { throw WorkQueueError.failure("queue.declare '\(name)': no reply") }
        return QueueCounts(ready: Int(ok.pointee.message_count), consumers: Int(ok.pointee.consumer_count))
    }

    /// Deletes a queue (tests and tools); missing queues are fine.
    package func deleteQueue(_ name: String) throws(WorkQueueError) {
        let state = try live("queue.delete")
        _ = name.withCString { amqp_queue_delete(state, Self.workChannel, amqp_cstring_bytes($0), 0, 0) }
        try check(amqp_get_rpc_reply(state), "queue.delete '\(name)'", channel: Self.workChannel)
    }

    /// Deletes an exchange (tests and tools); missing exchanges are fine.
    package func deleteExchange(_ name: String) throws(WorkQueueError) {
        let state = try live("exchange.delete")
        _ = name.withCString { amqp_exchange_delete(state, Self.workChannel, amqp_cstring_bytes($0), 0) }
        try check(amqp_get_rpc_reply(state), "exchange.delete '\(name)'", channel: Self.workChannel)
    }
}

extension AMQPConnection {
    /// Declares a queue of this connection's own: server-named, exclusive, auto-delete, holding
    /// at most `maxLength` messages (the oldest are dropped), bound to `exchange`. Returns its name.
    package func declarePrivateQueue(boundTo exchange: String, maxLength: Int) throws(WorkQueueError) -> String {
        let state = try live("queue.declare (exclusive)")
        let channel = Self.workChannel
        let ok = AMQPTable.with([("x-max-length", .int(Int64(maxLength)))]) { table in
            amqp_queue_declare(state, channel, amqp_empty_bytes, 0, 0, 1, 1, table)
        }
        try check(amqp_get_rpc_reply(state), "queue.declare (exclusive)", channel: channel)
        guard let ok else { throw WorkQueueError.failure("queue.declare (exclusive): no reply") }
        let name = AMQPBytes.string(ok.pointee.queue)
        _ = name.withCString { cName in
            exchange.withCString { cExchange in
                amqp_queue_bind(state, channel, amqp_cstring_bytes(cName), amqp_cstring_bytes(cExchange), amqp_empty_bytes, amqp_empty_table)
            }
        }
        try check(amqp_get_rpc_reply(state), "queue.bind '\(exchange)'", channel: channel)
        return name
    }
}
