import CRabbitMQ
import Core
import Testing

@testable import AMQPClient

@Suite("Deliveries assembled from the frames the router reads")
struct DeliveryAssemblerTests {
    @Test("deliver, header and one body frame make one delivery with its tag and body")
    func oneFrameBody() {
        let frames = FrameBuilder()
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        #expect(assembler.feed(frames.deliver(tag: 7)) == nil)
        #expect(assembler.feed(frames.header(bodySize: 5)) == nil)
        let delivery = assembler.feed(frames.body("hello"))
        #expect(delivery == Delivery(tag: 7, body: Array("hello".utf8), redelivered: false, headers: [:]))
    }

    @Test("a delivery carries the tag of the consumer it went to (with shards: which shard it came from)")
    func consumerTag() {
        let frames = FrameBuilder()
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        _ = assembler.feed(frames.deliver(tag: 2, consumerTag: "amq.ctag-shard-3"))
        _ = assembler.feed(frames.header(bodySize: 1))
        let delivery = assembler.feed(frames.body("x"))
        #expect(delivery?.consumerTag == "amq.ctag-shard-3")
        #expect(delivery?.workQueue == "")
    }

    @Test("a body split over several frames comes out whole, only after its last frame")
    func splitBody() {
        let frames = FrameBuilder()
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        _ = assembler.feed(frames.deliver(tag: 1, redelivered: true))
        _ = assembler.feed(frames.header(bodySize: 11))
        #expect(assembler.feed(frames.body("hel")) == nil)
        #expect(assembler.feed(frames.body("lo wo")) == nil)
        let delivery = assembler.feed(frames.body("rld"))
        #expect(delivery?.body == Array("hello world".utf8))
        #expect(delivery?.redelivered == true)
        #expect(delivery?.tag == 1)
    }

    @Test("an empty body is complete with its header; no body frame is awaited")
    func emptyBody() {
        let frames = FrameBuilder()
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        _ = assembler.feed(frames.deliver(tag: 3))
        let delivery = assembler.feed(frames.header(bodySize: 0))
        #expect(delivery == Delivery(tag: 3, body: [], redelivered: false, headers: [:]))
        // A stray body frame afterwards belongs to no delivery.
        #expect(assembler.feed(frames.body("x")) == nil)
    }

    @Test("frames of another channel in between are left alone")
    func otherChannelInterleaved() {
        let frames = FrameBuilder()
        let other = AMQPConnection.markerChannel
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        _ = assembler.feed(frames.deliver(tag: 9))
        #expect(assembler.feed(frames.deliver(tag: 100, channel: other)) == nil)
        _ = assembler.feed(frames.header(bodySize: 4))
        #expect(assembler.feed(frames.header(bodySize: 2, channel: other)) == nil)
        #expect(assembler.feed(frames.body("ab")) == nil)
        #expect(assembler.feed(frames.body("zz", channel: other)) == nil)
        let delivery = assembler.feed(frames.body("cd"))
        #expect(delivery == Delivery(tag: 9, body: Array("abcd".utf8), redelivered: false, headers: [:]))
    }

    @Test("two deliveries in a row each come out once")
    func twoInARow() {
        let frames = FrameBuilder()
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        var out: [Delivery] = []
        for (tag, body) in [(UInt64(1), "a"), (2, "bc")] {
            for frame in [frames.deliver(tag: tag), frames.header(bodySize: body.utf8.count), frames.body(body)] {
                if let delivery = assembler.feed(frame) { out.append(delivery) }
            }
        }
        #expect(out.map(\.tag) == [1, 2])
        #expect(out.map { String(decoding: $0.body, as: UTF8.self) } == ["a", "bc"])
    }

    @Test("headers and properties of the content header are kept")
    func headersAndProperties() {
        let frames = FrameBuilder()
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        let contentType = frames.bytes("text/plain")
        let delivery = AMQPTable.with([("x-retries", .int(2)), ("x-origin", .string("loader"))]) { table in
            _ = assembler.feed(frames.deliver(tag: 4))
            _ = assembler.feed(
                frames.header(bodySize: 1) { properties in
                    properties._flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG)
                    properties.headers = table
                    properties.content_type = contentType
                })
            return assembler.feed(frames.body("x"))
        }
        #expect(delivery?.headers == ["x-retries": .int(2), "x-origin": .string("loader")])
        #expect(delivery?.properties.contentType == "text/plain")
    }

    @Test("header or body frames without a basic.deliver first make nothing")
    func contentWithoutDeliver() {
        let frames = FrameBuilder()
        var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
        #expect(assembler.feed(frames.header(bodySize: 1)) == nil)
        #expect(assembler.feed(frames.body("x")) == nil)
    }
}
