import CRabbitMQ
import Core

@testable import AMQPClient

/// Builds rabbitmq-c frames as the library decodes them off the wire, for feeding the
/// assembler and the router without a broker. Owns the memory the frames point into until it
/// is released.
final class FrameBuilder {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { allocations.forEach { $0.deallocate() } }

    /// A copy of `value` that lives as long as the builder.
    private func keep<T>(_ value: T) -> UnsafeMutableRawPointer {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        pointer.initialize(to: value)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return UnsafeMutableRawPointer(pointer)
    }

    /// Bytes that live as long as the builder.
    func bytes(_ text: String) -> amqp_bytes_t {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return amqp_bytes_t(len: 0, bytes: nil) }
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: utf8.count, alignment: 1)
        pointer.copyMemory(from: utf8, byteCount: utf8.count)
        allocations.append(pointer)
        return amqp_bytes_t(len: utf8.count, bytes: pointer)
    }

    func method(_ id: amqp_method_number_t, channel: UInt16, decoded: UnsafeMutableRawPointer? = nil) -> amqp_frame_t {
        var frame = amqp_frame_t()
        frame.frame_type = UInt8(AMQP_FRAME_METHOD)
        frame.channel = channel
        frame.payload.method.id = id
        frame.payload.method.decoded = decoded
        return frame
    }

    func deliver(tag: UInt64, redelivered: Bool = false, consumerTag: String = "", channel: UInt16 = AMQPConnection.workChannel) -> amqp_frame_t {
        var deliver = amqp_basic_deliver_t()
        deliver.delivery_tag = tag
        deliver.consumer_tag = bytes(consumerTag)
        deliver.redelivered = redelivered ? 1 : 0
        return method(AMQP_BASIC_DELIVER_METHOD, channel: channel, decoded: keep(deliver))
    }

    /// A content header; `configure` may set more properties than the persistent delivery mode.
    func header(
        bodySize: Int, channel: UInt16 = AMQPConnection.workChannel,
        _ configure: (inout amqp_basic_properties_t) -> Void = { _ in }
    ) -> amqp_frame_t {
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        properties.delivery_mode = UInt8(AMQP_DELIVERY_PERSISTENT.rawValue)
        configure(&properties)
        var frame = amqp_frame_t()
        frame.frame_type = UInt8(AMQP_FRAME_HEADER)
        frame.channel = channel
        frame.payload.properties.class_id = UInt16(AMQP_BASIC_CLASS)
        frame.payload.properties.body_size = UInt64(bodySize)
        frame.payload.properties.decoded = keep(properties)
        return frame
    }

    func body(_ text: String, channel: UInt16 = AMQPConnection.workChannel) -> amqp_frame_t {
        var frame = amqp_frame_t()
        frame.frame_type = UInt8(AMQP_FRAME_BODY)
        frame.channel = channel
        frame.payload.body_fragment = bytes(text)
        return frame
    }

    /// A connection.close or channel.close method with `code` and `reason`.
    func close(connection: Bool, code: UInt16, reason: String) -> amqp_method_t {
        var method = amqp_method_t()
        if connection {
            var close = amqp_connection_close_t()
            close.reply_code = code
            close.reply_text = bytes(reason)
            method.id = AMQP_CONNECTION_CLOSE_METHOD
            method.decoded = keep(close)
        } else {
            var close = amqp_channel_close_t()
            close.reply_code = code
            close.reply_text = bytes(reason)
            method.id = AMQP_CHANNEL_CLOSE_METHOD
            method.decoded = keep(close)
        }
        return method
    }
}
