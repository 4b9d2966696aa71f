import Testing

import Core
@testable import Drain

@Suite("The processor's intake: when an idle processor looks at the queue, and what it makes of it")
struct IntakeTests {
    func delivery(_ tag: UInt64) -> Delivery { Delivery(tag: tag, body: [UInt8]("\(tag)".utf8), redelivered: false, headers: [:]) }

    @Test("a quiet consumer looks at the queue only 0.25 s after its last delivery")
    func quietConsumer() {
        var intake = Intake(startedAt: 0, waitForWork: 0)
        intake.consuming(tag: "c1", now: 10)
        #expect(intake.idleStep(now: 10.2) == .none)
        #expect(intake.nextIdleCheck == 10.25)
        intake.delivered(delivery(1), now: 10.2)
        #expect(intake.idleStep(now: 10.3) == .none)
        #expect(intake.idleStep(now: 10.45) == .checkWhileConsuming)
    }

    @Test("after leaving an empty queue it samples at once, then every 0.5 s, and exits on two empty samples")
    func samplesThenExits() {
        var intake = Intake(startedAt: 0, waitForWork: 0)
        intake.consuming(tag: "c1", now: 1)
        intake.delivered(delivery(1), now: 1)
        _ = intake.takeNext()
        intake.leftEmptyQueue(now: 2)
        #expect(intake.consumerTag == nil)
        #expect(intake.idleStep(now: 2) == .sample)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: 2) == .wait)
        #expect(intake.idleStep(now: 2.4) == .none)
        #expect(intake.nextIdleCheck == 2.5)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: 2.5) == .exit)
    }

    @Test("a peer still holding items keeps it waiting; items coming back make it consume")
    func peersHoldWork() {
        var intake = Intake(startedAt: 0, waitForWork: 0)
        intake.leftEmptyQueue(now: 1)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 1), now: 1) == .wait)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: 1.5) == .wait)
        #expect(intake.observe(QueueCounts(ready: 2, consumers: 0), now: 2) == .consume)
        intake.consuming(tag: "c2", now: 2)
        #expect(intake.idleStep(now: 2.1) == .none)
    }

    @Test("a consumer cancelled by the broker samples the queue at once")
    func brokerCancel() {
        var intake = Intake(startedAt: 0, waitForWork: 0)
        intake.consuming(tag: "c1", now: 5)
        intake.cancelledByBroker()
        #expect(intake.idleStep(now: 5) == .sample)
    }

    @Test("deliveries wait in order; stopping takes them all; a reconnect forgets them and the consumer")
    func waitingItems() {
        var intake = Intake(startedAt: 0, waitForWork: 0)
        intake.consuming(tag: "c1", now: 0)
        for tag: UInt64 in 1...3 { intake.delivered(delivery(tag), now: 0) }
        let first = intake.takeNext()
        #expect(first.tag == 1)
        let rest = intake.takeAll()
        #expect(rest.map(\.tag) == [2, 3])
        #expect(intake.waiting.isEmpty)
        intake.delivered(delivery(4), now: 1)
        intake.reconnected()
        #expect(intake.waiting.isEmpty)
        #expect(intake.consumerTag == nil)
    }

    @Test("--wait-for-work: empty samples do not end a processor that has seen no work yet")
    func waitForWork() {
        var intake = Intake(startedAt: 0, waitForWork: 10)
        intake.leftEmptyQueue(now: 0)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: 1) == .wait)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: 1.5) == .wait)
        var seen = Intake(startedAt: 0, waitForWork: 10)
        seen.arrived(now: 0.5)
        seen.leftEmptyQueue(now: 1)
        #expect(seen.observe(QueueCounts(ready: 0, consumers: 0), now: 1) == .wait)
        #expect(seen.observe(QueueCounts(ready: 0, consumers: 0), now: 1.5) == .exit)
    }
}
