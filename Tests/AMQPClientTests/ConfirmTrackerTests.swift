import Testing

@testable import AMQPClient

@Suite("Publisher confirms as the broker reports them")
struct ConfirmTrackerTests {
    @Test("confirms count single, multiple and out-of-order acknowledgements")
    func confirms() {
        var tracker = ConfirmTracker()
        for _ in 0..<10 { _ = tracker.recordPublish() }
        tracker.acknowledge(tag: 3, multiple: true)
        #expect(tracker.confirmedThrough == 3)
        tracker.acknowledge(tag: 5, multiple: false)
        #expect(tracker.outstanding == 6)
        tracker.acknowledge(tag: 4, multiple: false)
        #expect(tracker.confirmedThrough == 5)
        tracker.acknowledge(tag: 9, multiple: false)
        tracker.acknowledge(tag: 8, multiple: true)
        #expect(tracker.confirmedThrough == 9)
        #expect(tracker.outstanding == 1)
        #expect(tracker.confirmedCount == 9)
    }

    @Test("after a returned or refused copy, no later (coalesced) ack confirms anything on that channel")
    func failedPublishFreezesConfirms() {
        var tracker = ConfirmTracker()
        for _ in 0..<3 { _ = tracker.recordPublish() }
        tracker.acknowledge(tag: 1, multiple: false)
        tracker.fail()
        tracker.acknowledge(tag: 3, multiple: true)
        #expect(tracker.isConfirmed(1))
        #expect(!tracker.isConfirmed(2), "the returned copy must never count as stored")
        #expect(!tracker.isConfirmed(3))
    }
}
