import Testing

import Core

@Suite("Acknowledgements are held only while the processor has work at hand without them")
struct AckPacingTests {
    @Test("held while enough items wait or may still come, then sent once the hold is over")
    func heldBriefly() {
        var pacing = AckPacing()
        let first = pacing.flushNow(now: at(10), pending: 1, unacknowledged: 10, waiting: 8, prefetch: 10)
        #expect(!first)
        #expect(pacing.deadline == at(10) + AckPacing.hold)
        let second = pacing.flushNow(now: at(10.01), pending: 2, unacknowledged: 3, waiting: 1, prefetch: 10)
        #expect(!second, "one waits and seven more may come without these acks: 3/4 of the window")
        let late = pacing.flushNow(now: at(10) + AckPacing.hold, pending: 2, unacknowledged: 10, waiting: 7, prefetch: 10)
        #expect(late)
        #expect(pacing.deadline == nil)
    }

    @Test("sent at once when the items at hand run low, a batch is full, or the prefetch is 1")
    func neverStalls() {
        var pacing = AckPacing()
        let runningLow = pacing.flushNow(now: at(0), pending: 4, unacknowledged: 10, waiting: 6, prefetch: 10)
        #expect(runningLow)
        let batch = pacing.flushNow(now: at(0), pending: AckPacing.batch, unacknowledged: 1000, waiting: 900, prefetch: 1000)
        #expect(batch)
        let single = pacing.flushNow(now: at(0), pending: 1, unacknowledged: 1, waiting: 0, prefetch: 1)
        #expect(single)
        let slotsBusy = pacing.flushNow(now: at(0), pending: 1, unacknowledged: 4, waiting: 0, prefetch: 4)
        #expect(slotsBusy, "--concurrency 4 --prefetch 4: a free slot gets nothing until the ack")
    }

    @Test("nothing pending: nothing to send and no deadline")
    func nothingPending() {
        var pacing = AckPacing()
        _ = pacing.flushNow(now: at(0), pending: 1, unacknowledged: 2, waiting: 1, prefetch: 10)
        let empty = pacing.flushNow(now: at(1), pending: 0, unacknowledged: 0, waiting: 0, prefetch: 10)
        #expect(!empty)
        #expect(pacing.deadline == nil)
    }
}
