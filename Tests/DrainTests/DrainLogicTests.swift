import Testing

import Core
import ProcessRunner
import Drain

@Suite("Drain barrier, failure policy and confirms as pure logic")
struct DrainLogicTests {
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

    @Test("a failed item is retried until the last attempt, then dead-lettered")
    func failurePolicy() {
        let policy = FailurePolicy(maxAttempts: 3)
        #expect(FailurePolicy.attempt(of: [:]) == 1)
        #expect(FailurePolicy.attempt(of: ["x-attempts": .int(2)]) == 2)
        #expect(FailurePolicy.attempt(of: ["x-attempts": .string("3")]) == 3)
        #expect(policy.outcome(afterFailedAttempt: 1) == .retry(nextAttempt: 2))
        #expect(policy.outcome(afterFailedAttempt: 2) == .retry(nextAttempt: 3))
        #expect(policy.outcome(afterFailedAttempt: 3) == .deadLetter(attempts: 3))
        #expect(FailurePolicy(maxAttempts: 1).outcome(afterFailedAttempt: 1) == .deadLetter(attempts: 1))
    }

    @Test("{} in any argument becomes the item; a NUL byte cannot be an argument")
    func substitution() {
        let command = WorkCommand(arguments: ["convert", "{}", "out/{}.png", "{x}"])
        #expect(command.argv(for: Array("a b".utf8)) == ["convert", "a b", "out/a b.png", "{x}"].map { Array($0.utf8) })
        #expect(command.argv(for: [0x61, 0x00]) == nil)
        #expect(WorkCommand(arguments: ["cat"]).argv(for: [0x00]) == [Array("cat".utf8)])
    }

    @Test("log labels shorten long items and show newlines")
    func labels() {
        #expect(ItemLabel.short(Array("a\nb".utf8)) == "a⏎b")
        #expect(ItemLabel.short([UInt8](repeating: 0x61, count: 1000)).hasSuffix("…(1000 bytes)"))
    }
}
