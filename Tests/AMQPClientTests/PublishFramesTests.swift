import CRabbitMQ
import Testing

@testable import AMQPClient

@Suite("Queued publishes encode the frames rabbitmq-c would send")
struct PublishFramesTests {
    /// One frame read back: type, channel and payload, checking size and frame end.
    private struct Frame: Equatable {
        var type: UInt8
        var channel: UInt16
        var payload: [UInt8]
    }

    private func frames(_ bytes: [UInt8]) -> [Frame] {
        var result: [Frame] = []
        var at = 0
        while at < bytes.count {
            let size = bytes[(at + 3)..<(at + 7)].reduce(0) { $0 << 8 | Int($1) }
            let channel = UInt16(bytes[at + 1]) << 8 | UInt16(bytes[at + 2])
            result.append(Frame(type: bytes[at], channel: channel, payload: Array(bytes[(at + 7)..<(at + 7 + size)])))
            #expect(bytes[at + 7 + size] == 0xCE)
            at += 8 + size
        }
        return result
    }

    /// rabbitmq-c's own encoding of basic.publish's arguments, after class and method ids.
    private func libraryMethodPayload(routingKey: String, mandatory: Bool) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 512)
        return routingKey.withCString { key in
            "".withCString { exchange in
                var publish = amqp_basic_publish_t(
                    ticket: 0, exchange: amqp_cstring_bytes(exchange), routing_key: amqp_cstring_bytes(key),
                    mandatory: mandatory ? 1 : 0, immediate: 0)
                let count = buffer.withUnsafeMutableBytes { raw in
                    amqp_encode_method(AMQP_BASIC_PUBLISH_METHOD, &publish, amqp_bytes_t(len: raw.count, bytes: raw.baseAddress))
                }
                return [0, 60, 0, 40] + Array(buffer[0..<Int(count)])
            }
        }
    }

    /// rabbitmq-c's encoding of properties with the delivery mode and, if given, a content type.
    private func libraryProperties(persistent: Bool, contentType: String? = nil) -> [UInt8] {
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        properties.delivery_mode = persistent ? 2 : 1
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = (contentType ?? "").withCString { cType in
            if contentType != nil {
                properties._flags |= amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG)
                properties.content_type = amqp_cstring_bytes(cType)
            }
            return buffer.withUnsafeMutableBytes { raw in
                amqp_encode_properties(60, &properties, amqp_bytes_t(len: raw.count, bytes: raw.baseAddress))
            }
        }
        return Array(buffer[0..<Int(count)])
    }

    @Test("method, content header and body frames match rabbitmq-c's encoders byte for byte")
    func matchesLibraryEncoding() {
        var queued = PublishFrames()
        let body = Array("item 42 \u{00E9}".utf8)
        body.withUnsafeBytes {
            queued.append(channel: 2, exchange: "", routingKey: "work-queue", mandatory: true, persistent: true, body: $0, frameMax: 131_072)
        }
        let read = frames(queued.bytes)
        #expect(read.count == 3)
        #expect(read[0] == Frame(type: 1, channel: 2, payload: libraryMethodPayload(routingKey: "work-queue", mandatory: true)))
        let size = (0..<8).map { UInt8(UInt64(body.count) >> UInt64(56 - 8 * $0) & 0xFF) }
        #expect(read[1] == Frame(type: 2, channel: 2, payload: [0, 60, 0, 0] + size + libraryProperties(persistent: true)))
        #expect(read[2] == Frame(type: 3, channel: 2, payload: body))
        #expect(queued.messages == 1)
    }

    @Test("round-robin over shards: each message carries its own routing key, encoded once per key")
    func alternatingRoutingKeys() {
        var queued = PublishFrames()
        let keys = ["jobs.0", "jobs.1", "jobs.2", "jobs.0", "jobs.1"]
        for key in keys {
            Array(key.utf8).withUnsafeBytes {
                queued.append(channel: 2, exchange: "", routingKey: key, mandatory: true, persistent: true, body: $0, frameMax: 131_072)
            }
        }
        let methods = frames(queued.bytes).filter { $0.type == 1 }
        #expect(methods.map(\.payload) == keys.map { libraryMethodPayload(routingKey: $0, mandatory: true) })
        #expect(queued.messages == 5)
    }

    @Test("a body longer than a frame is split at frame_max - 8; an empty body has no body frame")
    func bodySplitting() {
        var queued = PublishFrames()
        let body = [UInt8](repeating: 7, count: 10_000)
        body.withUnsafeBytes {
            queued.append(channel: 2, exchange: "", routingKey: "q", mandatory: false, persistent: false, body: $0, frameMax: 4096)
        }
        [UInt8]().withUnsafeBytes {
            queued.append(channel: 2, exchange: "", routingKey: "q", mandatory: false, persistent: false, body: $0, frameMax: 4096)
        }
        let read = frames(queued.bytes)
        #expect(read.map(\.type) == [1, 2, 3, 3, 3, 1, 2])
        #expect(read[2...4].map(\.payload.count) == [4088, 4088, 1824])
        #expect(read[0].payload == libraryMethodPayload(routingKey: "q", mandatory: false))
        #expect(Array(read[1].payload.suffix(3)) == libraryProperties(persistent: false))
        #expect(queued.messages == 2)
        let total = queued.bytes.count
        queued.consume(10)
        #expect(queued.unwritten == total - 10 && queued.messages == 2)
        #expect(queued.withUnwrittenBytes { Array($0) } == Array(queued.bytes[10...]))
        queued.consume(total - 10)
        #expect(queued.isEmpty && queued.messages == 0)
    }

    @Test("a message id goes into the content header after the delivery mode, flag bit 7 set")
    func messageID() {
        var frames = PublishFrames()
        let body: [UInt8] = Array("item".utf8)
        body.withUnsafeBytes {
            frames.append(
                channel: 2, exchange: "", routingKey: "q", mandatory: true, persistent: true, body: $0, frameMax: 131_072,
                messageID: "load7-12")
        }
        let header = self.frames(frames.bytes)[1]
        #expect(header.type == 2)
        #expect(Array(header.payload[12..<14]) == [0x10, 0x80])
        #expect(header.payload[14] == 2)
        #expect(Array(header.payload[15...]) == [8] + Array("load7-12".utf8))
    }

    @Test("a content type goes into the content header before the delivery mode, as rabbitmq-c encodes it")
    func contentType() {
        var frames = PublishFrames()
        let body: [UInt8] = Array("{}".utf8)
        body.withUnsafeBytes {
            frames.append(
                channel: 4, exchange: "q.progress", routingKey: "", mandatory: false, persistent: false, body: $0,
                frameMax: 131_072, contentType: "application/json")
        }
        let header = self.frames(frames.bytes)[1]
        #expect(header.channel == 4)
        #expect(Array(header.payload[12...]) == libraryProperties(persistent: false, contentType: "application/json"))
        #expect(Array(header.payload[4..<12]) == [0, 0, 0, 0, 0, 0, 0, 2])
    }
}
