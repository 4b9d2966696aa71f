internal import CRabbitMQ
import Core

extension AMQPConnection {
    /// Fire-and-forget publishes (no confirms) and the fanout exchanges they go to, on a channel
    /// of their own, so a missing or refused exchange closes only this channel, never the work.
    package static let sideChannel: UInt16 = 4

    /// Declares a durable fanout exchange (or, with `passive`, checks that it exists) on the side
    /// channel. Durable, so that one an administrator declared for users without configure
    /// permission outlives a broker restart; one declared non-durable by an older release answers
    /// 406 here and is found by the passive declare that follows. A refusal closes only the side
    /// channel and is thrown; the connection stays usable.
    package func declareFanoutExchange(_ name: String, passive: Bool = false) throws(WorkQueueError) {
        let state = try live("exchange.declare")
        let channel = Self.sideChannel
        if !openChannels.contains(channel) { try openChannel(channel) }
        _ = name.withCString { cName in
            "fanout".withCString { cType in
                amqp_exchange_declare(
                    state, channel, amqp_cstring_bytes(cName), amqp_cstring_bytes(cType),
                    passive ? 1 : 0, 1, 0, 0, amqp_empty_table)
            }
        }
        let reply = amqp_get_rpc_reply(state)
        if AMQPStatus.channelCloseCode(reply) != nil {
            throw acceptChannelClose(reply.reply, channel: channel, "exchange.declare '\(name)'")
        }
        try check(reply, "exchange.declare '\(name)'", channel: channel)
    }

    /// True while the side channel is open (a broker refusal closes it).
    package var sideChannelOpen: Bool { openChannels.contains(Self.sideChannel) }

    /// Publishes a transient JSON message to `exchange` on the side channel: no confirm, not
    /// mandatory, so nothing waits for the broker. Nothing is sent while the side channel is
    /// closed, nor while the broker blocks this connection (a resource alarm): the message is
    /// worth less than a loop stalled in a full socket. Errors mean the connection itself failed;
    /// false means nothing was sent. Its three frames leave in one write (rabbitmq-c makes a
    /// `send` per frame; a processor sends an event before each batch of acknowledgements), with
    /// any queued publishes before them; over TLS through rabbitmq-c's own socket.
    @discardableResult
    package func publishTransient(exchange: String, body: [UInt8]) throws(WorkQueueError) -> Bool {
        let state = try live("basic.publish (transient)")
        guard openChannels.contains(Self.sideChannel), blockedReason == nil else { return false }
        guard settings.useTLS else {
            body.withUnsafeBytes { buffer in
                outgoing.append(
                    channel: Self.sideChannel, exchange: exchange, routingKey: "", mandatory: false, persistent: false,
                    body: buffer, frameMax: Int(amqp_get_frame_max(state)), contentType: "application/json")
            }
            try flushQueuedPublishes(state)
            return true
        }
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG)
        properties.delivery_mode = UInt8(AMQP_DELIVERY_NONPERSISTENT.rawValue)
        let status: Int32 = "application/json".withCString { cType in
            properties.content_type = amqp_cstring_bytes(cType)
            return body.withUnsafeBytes { buffer in
                let payload = amqp_bytes_t(len: buffer.count, bytes: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                return exchange.withCString { cExchange in
                    amqp_basic_publish(
                        state, Self.sideChannel, amqp_cstring_bytes(cExchange), amqp_empty_bytes, 0, 0,
                        &properties, payload)
                }
            }
        }
        if status != AMQP_STATUS_OK.rawValue { throw fail(status: status, "basic.publish (transient)") }
        return true
    }
}
