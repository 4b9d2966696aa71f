import Testing

import Core

@Suite("Acknowledgements are held only while other work runs and the prefetch window has room")
struct AckPacingTests {
    @Test("held while others run with room in the window, then sent once the hold is over")
    func heldBriefly() {
        var pacing = AckPacing()
        let flushed1 = pacing.flushNow(now: 10, pending: 1, unacknowledged: 3, prefetch: 10, othersRunning: true)
        #expect(!flushed1)
        #expect(pacing.deadline == 10 + AckPacing.hold)
        let flushed2 = pacing.flushNow(now: 10.01, pending: 2, unacknowledged: 4, prefetch: 10, othersRunning: true)
        #expect(!flushed2)
        let flushed3 = pacing.flushNow(now: 10 + AckPacing.hold, pending: 2, unacknowledged: 4, prefetch: 10, othersRunning: true)
        #expect(flushed3)
        #expect(pacing.deadline == nil)
    }

    @Test("sent at once when nothing else runs, the window is full or a batch is full")
    func neverStalls() {
        var pacing = AckPacing()
        let flushed4 = pacing.flushNow(now: 0, pending: 1, unacknowledged: 1, prefetch: 10, othersRunning: false)
        #expect(flushed4)
        let flushed5 = pacing.flushNow(now: 0, pending: 1, unacknowledged: 10, prefetch: 10, othersRunning: true)
        #expect(flushed5)
        let flushed6 = pacing.flushNow(now: 0, pending: AckPacing.batch, unacknowledged: 64, prefetch: 1000, othersRunning: true)
        #expect(flushed6)
        let flushed7 = pacing.flushNow(now: 0, pending: 1, unacknowledged: 1, prefetch: 1, othersRunning: true)
        #expect(flushed7, "prefetch 1")
    }

    @Test("nothing pending: nothing to send and no deadline")
    func nothingPending() {
        var pacing = AckPacing()
        _ = pacing.flushNow(now: 0, pending: 1, unacknowledged: 2, prefetch: 10, othersRunning: true)
        let flushed8 = pacing.flushNow(now: 1, pending: 0, unacknowledged: 0, prefetch: 10, othersRunning: true)
        #expect(!flushed8)
        #expect(pacing.deadline == nil)
    }
}
