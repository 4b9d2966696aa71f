import Testing

import Core

@Suite("The drain barrier: when an idle processor exits, waits or consumes again, as pure logic")
struct DrainBarrierTests {
    @Test("exits only after two empty samples with no consumers in a row")
    func twoEmptySamples() {
        var barrier = DrainBarrier(startedAt: at(0), waitForWork: .seconds(0))
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(1)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(1.5)) == .exit)
    }

    @Test("another processor holding items keeps this one waiting, and resets the count")
    func othersHoldWork() {
        var barrier = DrainBarrier(startedAt: at(0), waitForWork: .seconds(0))
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(1)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 1), now: at(1.5)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(2)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(2.5)) == .exit)
    }

    @Test("items that come back (a holder died) make it consume again")
    func itemsReturn() {
        var barrier = DrainBarrier(startedAt: at(0), waitForWork: .seconds(0))
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 1), now: at(1)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 3, consumers: 0), now: at(1.5)) == .consume)
    }

    @Test("--wait-for-work waits for a first item, but not after work was seen")
    func waitForWork() {
        var barrier = DrainBarrier(startedAt: at(0), waitForWork: .seconds(10))
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(1)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(2)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(10.5)) == .exit)
        var seen = DrainBarrier(startedAt: at(0), waitForWork: .seconds(10))
        seen.workSeen()
        #expect(seen.observe(QueueCounts(ready: 0, consumers: 0), now: at(1)) == .wait)
        #expect(seen.observe(QueueCounts(ready: 0, consumers: 0), now: at(1.5)) == .exit)
    }

    @Test("--wait-for-work does not hold back a processor that saw others working")
    func othersWorkedMeanwhile() {
        var barrier = DrainBarrier(startedAt: at(0), waitForWork: .seconds(60))
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 3), now: at(1)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 2), now: at(1.5)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(2)) == .wait)
        #expect(barrier.observe(QueueCounts(ready: 0, consumers: 0), now: at(2.5)) == .exit)
        var startup = DrainBarrier(startedAt: at(0), waitForWork: .seconds(60))
        #expect(startup.observe(QueueCounts(ready: 0, consumers: 3), now: at(1)) == .wait)
        #expect(startup.observe(QueueCounts(ready: 0, consumers: 0), now: at(1.5)) == .wait)
        #expect(startup.observe(QueueCounts(ready: 0, consumers: 0), now: at(2)) == .wait)
        #expect(startup.sawWork == false)
    }
}
