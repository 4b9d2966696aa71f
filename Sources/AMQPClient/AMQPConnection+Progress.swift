internal import CRabbitMQ
import Core

extension AMQPConnection {
    /// Progress events: fire-and-forget publishes on their own channel, so a missing or refused
    /// exchange closes only this channel, never the work.
    package static let progressChannel: UInt16 = 4

    /// Declares a non-durable fanout exchange (or, with `passive`, checks that it exists).
    /// A refusal closes only the progress channel and is thrown; the connection stays usable.
    package func declareFanoutExchange(_ name: String, passive: Bool = false) throws {
        let state = try live("exchange.declare")
        let channel = Self.progressChannel
        if !openChannels.contains(channel) { try openChannel(channel) }
        _ = name.withCString { cName in
            "fanout".withCString { cType in
                amqp_exchange_declare(
                    state, channel, amqp_cstring_bytes(cName), amqp_cstring_bytes(cType),
                    passive ? 1 : 0, 0, 0, 0, amqp_empty_table)
            }
        }
        let reply = amqp_get_rpc_reply(state)
        if AMQPStatus.channelCloseCode(reply) != nil {
            throw acceptChannelClose(reply.reply, channel: channel, "exchange.declare '\(name)'")
        }
        try check(reply, "exchange.declare '\(name)'", channel: channel)
    }

    /// True while the progress channel is open (a broker refusal closes it).
    package var progressChannelOpen: Bool { openChannels.contains(Self.progressChannel) }

    /// Publishes a transient message to `exchange` on the progress channel: no confirm, not
    /// mandatory, so nothing waits for the broker. Errors mean the connection itself failed.
    package func publishProgress(exchange: String, body: [UInt8]) throws {
        let state = try live("basic.publish (progress)")
        guard openChannels.contains(Self.progressChannel) else { return }
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG)
        properties.delivery_mode = UInt8(AMQP_DELIVERY_NONPERSISTENT.rawValue)
        let status: Int32 = "application/json".withCString { cType in
            properties.content_type = amqp_cstring_bytes(cType)
            return body.withUnsafeBytes { buffer in
                let payload = amqp_bytes_t(len: buffer.count, bytes: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                return exchange.withCString { cExchange in
                    amqp_basic_publish(
                        state, Self.progressChannel, amqp_cstring_bytes(cExchange), amqp_empty_bytes, 0, 0,
                        &properties, payload)
                }
            }
        }
        if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "basic.publish (progress)") }
    }

    /// Declares this monitor's own queue: server-named, exclusive, auto-delete, holding at most
    /// `maxLength` messages (the oldest are dropped), bound to `exchange`. Returns its name.
    package func declareMonitorQueue(boundTo exchange: String, maxLength: Int) throws -> String {
        let state = try live("queue.declare (monitor)")
        let channel = Self.workChannel
        let ok = AMQPTable.with([("x-max-length", .int(Int64(maxLength)))]) { table in
            amqp_queue_declare(state, channel, amqp_empty_bytes, 0, 0, 1, 1, table)
        }
        try check(amqp_get_rpc_reply(state), "queue.declare (monitor)", channel: channel)
        guard let ok else { throw WorkQueueError.failure("queue.declare (monitor): no reply") }
        let name = AMQPBytes.string(ok.pointee.queue)
        _ = name.withCString { cName in
            exchange.withCString { cExchange in
                amqp_queue_bind(state, channel, amqp_cstring_bytes(cName), amqp_cstring_bytes(cExchange), amqp_empty_bytes, amqp_empty_table)
            }
        }
        try check(amqp_get_rpc_reply(state), "queue.bind '\(exchange)'", channel: channel)
        return name
    }

    /// Channels whose trouble never stops the work: progress events and the marker consumer.
    static let sideChannels: Set<UInt16> = [progressChannel, markerChannel]

    /// A frame of a side channel read while waiting for something else: a channel.close (the
    /// exchange or queue was deleted) is answered and only switches that channel off.
    func handleSideChannelFrame(_ frame: amqp_frame_t) {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD else { return }
        _ = acceptChannelClose(frame.payload.method, channel: frame.channel, "side channel \(frame.channel)")
    }
}
