internal import CRabbitMQ

/// What a frame read outside an RPC reply calls for, decided from its channel, type and method
/// alone (`of`); `AMQPConnection.route` then does it. Whichever wait read the frame (the
/// consume path, a confirm wait, a look at what is available), the answer is the same.
enum FrameRoute: Equatable {
    /// connection.blocked: the broker stops reading this connection (a resource alarm).
    case blocked
    /// connection.unblocked: the alarm is over.
    case unblocked
    /// connection.close: answered, and the connection is given up.
    case connectionClosed
    /// basic.deliver, content header or body of the work channel: a delivery being assembled.
    case delivery
    /// basic.cancel on the work channel: the broker cancelled our consumer.
    case consumerCancelled
    /// channel.close of the work channel: reported as a lost connection (the broker requeues).
    case workChannelClosed
    /// basic.ack on the publish channel: publishes confirmed (or a returned one failed).
    case confirmed
    /// basic.nack on the publish channel: the broker could not store a message.
    case refused
    /// basic.return on the publish channel: a mandatory message no queue took.
    case returned
    /// channel.close of the publish channel: the publish failed, the connection stays.
    case publishChannelClosed
    /// channel.close of an optional channel (side, marker, inspect): only it is switched off.
    case optionalChannelClosed
    /// Anything else: the content of a returned message, deliveries to the marker consumer,
    /// methods nobody waits for.
    case ignored

    /// The route of a frame on `channel` of type `type` (AMQP_FRAME_*), with `method` the
    /// method id of a method frame.
    static func of(channel: UInt16, type: UInt8, method: amqp_method_number_t) -> FrameRoute {
        let isMethod = type == UInt8(AMQP_FRAME_METHOD)
        switch channel {
        case 0:
            guard isMethod else { return .ignored }
            switch method {
            case AMQP_CONNECTION_BLOCKED_METHOD: return .blocked
            case AMQP_CONNECTION_UNBLOCKED_METHOD: return .unblocked
            case AMQP_CONNECTION_CLOSE_METHOD: return .connectionClosed
            default: return .ignored
            }
        case AMQPConnection.workChannel:
            guard isMethod else {
                return type == UInt8(AMQP_FRAME_HEADER) || type == UInt8(AMQP_FRAME_BODY) ? .delivery : .ignored
            }
            switch method {
            case AMQP_BASIC_DELIVER_METHOD: return .delivery
            case AMQP_BASIC_CANCEL_METHOD: return .consumerCancelled
            case AMQP_CHANNEL_CLOSE_METHOD: return .workChannelClosed
            default: return .ignored
            }
        case AMQPConnection.publishChannel:
            guard isMethod else { return .ignored }
            switch method {
            case AMQP_BASIC_ACK_METHOD: return .confirmed
            case AMQP_BASIC_NACK_METHOD: return .refused
            case AMQP_BASIC_RETURN_METHOD: return .returned
            case AMQP_CHANNEL_CLOSE_METHOD: return .publishChannelClosed
            default: return .ignored
            }
        default:
            return isMethod && method == AMQP_CHANNEL_CLOSE_METHOD ? .optionalChannelClosed : .ignored
        }
    }
}
