import CRabbitMQ
import Testing

@testable import AMQPClient

@Suite("One router: what each frame read outside an RPC calls for")
struct FrameRouteTests {
    static let method = UInt8(AMQP_FRAME_METHOD)
    static let header = UInt8(AMQP_FRAME_HEADER)
    static let body = UInt8(AMQP_FRAME_BODY)

    @Test("channel 0: blocked, unblocked and close; anything else is ignored")
    func connectionFrames() {
        #expect(FrameRoute.of(channel: 0, type: Self.method, method: AMQP_CONNECTION_BLOCKED_METHOD) == .blocked)
        #expect(FrameRoute.of(channel: 0, type: Self.method, method: AMQP_CONNECTION_UNBLOCKED_METHOD) == .unblocked)
        #expect(FrameRoute.of(channel: 0, type: Self.method, method: AMQP_CONNECTION_CLOSE_METHOD) == .connectionClosed)
        #expect(FrameRoute.of(channel: 0, type: Self.method, method: AMQP_BASIC_ACK_METHOD) == .ignored)
        #expect(FrameRoute.of(channel: 0, type: UInt8(AMQP_FRAME_HEARTBEAT), method: 0) == .ignored)
    }

    @Test("work channel: deliveries with their content, a broker cancel, a close")
    func workFrames() {
        let work = AMQPConnection.workChannel
        #expect(FrameRoute.of(channel: work, type: Self.method, method: AMQP_BASIC_DELIVER_METHOD) == .delivery)
        #expect(FrameRoute.of(channel: work, type: Self.header, method: 0) == .delivery)
        #expect(FrameRoute.of(channel: work, type: Self.body, method: 0) == .delivery)
        #expect(FrameRoute.of(channel: work, type: Self.method, method: AMQP_BASIC_CANCEL_METHOD) == .consumerCancelled)
        #expect(FrameRoute.of(channel: work, type: Self.method, method: AMQP_CHANNEL_CLOSE_METHOD) == .workChannelClosed)
        #expect(FrameRoute.of(channel: work, type: Self.method, method: AMQP_BASIC_ACK_METHOD) == .ignored)
    }

    @Test("publish channel: ack, nack, return and close; a returned message's content is ignored")
    func publishFrames() {
        let publish = AMQPConnection.publishChannel
        #expect(FrameRoute.of(channel: publish, type: Self.method, method: AMQP_BASIC_ACK_METHOD) == .confirmed)
        #expect(FrameRoute.of(channel: publish, type: Self.method, method: AMQP_BASIC_NACK_METHOD) == .refused)
        #expect(FrameRoute.of(channel: publish, type: Self.method, method: AMQP_BASIC_RETURN_METHOD) == .returned)
        #expect(FrameRoute.of(channel: publish, type: Self.method, method: AMQP_CHANNEL_CLOSE_METHOD) == .publishChannelClosed)
        #expect(FrameRoute.of(channel: publish, type: Self.header, method: 0) == .ignored)
        #expect(FrameRoute.of(channel: publish, type: Self.body, method: 0) == .ignored)
        #expect(FrameRoute.of(channel: publish, type: Self.method, method: AMQP_BASIC_DELIVER_METHOD) == .ignored)
    }

    @Test("side, marker and inspect channels: a close switches only that channel off; deliveries are dropped")
    func optionalFrames() {
        for channel in [AMQPConnection.sideChannel, AMQPConnection.markerChannel, AMQPConnection.inspectChannel] {
            #expect(FrameRoute.of(channel: channel, type: Self.method, method: AMQP_CHANNEL_CLOSE_METHOD) == .optionalChannelClosed)
            #expect(FrameRoute.of(channel: channel, type: Self.method, method: AMQP_BASIC_DELIVER_METHOD) == .ignored)
            #expect(FrameRoute.of(channel: channel, type: Self.method, method: AMQP_BASIC_CANCEL_METHOD) == .ignored)
            #expect(FrameRoute.of(channel: channel, type: Self.header, method: 0) == .ignored)
            #expect(FrameRoute.of(channel: channel, type: Self.body, method: 0) == .ignored)
        }
    }
}
