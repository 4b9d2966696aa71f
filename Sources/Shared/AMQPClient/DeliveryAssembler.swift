internal import CRabbitMQ
import Core

/// Builds deliveries of one channel from raw frames (basic.deliver, content header, body
/// frames), as the connection's frame router reads them; frames of other channels may come in
/// between and are left alone.
struct DeliveryAssembler {
    /// The channel whose deliveries this assembles.
    let channel: UInt16
    private var partial: Delivery?
    private var remaining: UInt64 = 0
    private var expectingHeader = false

    init(channel: UInt16) {
        self.channel = channel
    }

    /// Feeds one frame; returns a delivery when it is complete.
    mutating func feed(_ frame: amqp_frame_t) -> Delivery? {
        guard frame.channel == channel else { return nil }
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD where frame.payload.method.id == AMQP_BASIC_DELIVER_METHOD:
            let deliver = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            partial = Delivery(tag: deliver.delivery_tag, body: [], redelivered: deliver.redelivered != 0, headers: [:])
            partial?.consumerTag = AMQPBytes.string(deliver.consumer_tag)
            expectingHeader = true
            return nil
        case AMQP_FRAME_HEADER where expectingHeader:
            expectingHeader = false
            remaining = frame.payload.properties.body_size
            let properties = frame.payload.properties.decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee
            if properties._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0 {
                partial?.headers = AMQPTable.read(properties.headers)
            }
            if properties._flags != amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG) {
                partial?.properties = MessageProperties(properties)
            }
            partial?.body.reserveCapacity(Int(remaining))
            return remaining == 0 ? take() : nil
        case AMQP_FRAME_BODY where partial != nil && !expectingHeader:
            let fragment = frame.payload.body_fragment
            // Straight from rabbitmq-c's buffer into the body (no array in between: this runs
            // for every body frame of every delivery).
            if fragment.len > 0, let bytes = fragment.bytes {
                partial?.body.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: fragment.len))
            }
            remaining -= min(remaining, UInt64(fragment.len))
            return remaining == 0 ? take() : nil
        default:
            return nil
        }
    }

    private mutating func take() -> Delivery? {
        defer { partial = nil }
        return partial
    }
}
