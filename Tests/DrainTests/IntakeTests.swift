import Testing

import Core
@testable import Drain

@Suite("The processor's intake: when an idle processor looks at the queue, and what it makes of it")
struct IntakeTests {
    func delivery(_ tag: UInt64) -> Delivery { Delivery(tag: tag, body: [UInt8]("\(tag)".utf8), redelivered: false, headers: [:]) }

    @Test("a quiet consumer looks at the queue only 0.1 s after its last delivery")
    func quietConsumer() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        intake.consuming(tag: "c1", on: "q", now: at(10))
        #expect(intake.idleStep(now: at(10.05)) == .none)
        #expect(intake.nextIdleCheck == at(10) + .milliseconds(100))
        intake.delivered(delivery(1), now: at(10.05))
        #expect(intake.idleStep(now: at(10.1)) == .none)
        #expect(intake.idleStep(now: at(10.16)) == .checkWhileConsuming)
    }

    @Test("after leaving an empty queue it samples at once and confirms an empty sample 0.2 s later, then exits")
    func samplesThenExits() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        intake.consuming(tag: "c1", on: "q", now: at(1))
        intake.delivered(delivery(1), now: at(1))
        _ = intake.takeNext()
        intake.leftEmptyQueue(now: at(2))
        #expect(!intake.isConsuming)
        #expect(intake.idleStep(now: at(2)) == .sample)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: at(2)) == .wait)
        #expect(intake.idleStep(now: at(2.15)) == .none)
        #expect(intake.nextIdleCheck == at(2) + .milliseconds(200))
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: at(2.2)) == .exit)
    }

    @Test("while others hold items it samples every 0.5 s: no more broker load than that while idle")
    func pollsWhileOthersWork() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        intake.leftEmptyQueue(now: at(0))
        var declares = 0
        var now = 0.0
        while now < 10 {
            if intake.idleStep(now: at(now)) == .sample {
                declares += 1
                _ = intake.observe(QueueCounts(ready: 0, consumers: 1), now: at(now))
            }
            now += 0.01
        }
        #expect(declares == 20)
    }

    @Test("the last holder leaving: a waiting processor exits within 0.1 + 0.5 + 0.2 s of its last acknowledgement, whatever its phase")
    func promptExit() {
        // The holder acknowledged its last item at 0: it looks 0.1 s later and cancels; from then
        // on a peer's samples see nobody. Every phase of the peer's 0.5 s samples, in 5 ms steps:
        var latest = 0.0
        for phase in stride(from: 0.0, to: 0.5, by: 0.005) {
            var peer = Intake(startedAt: at(-2), waitForWork: .seconds(0))
            peer.leftEmptyQueue(now: at(-1 - phase))
            var now = -1 - phase
            var exitAt: Double?
            while now < 5 && exitAt == nil {
                if peer.idleStep(now: at(now)) == .sample {
                    let holderGone = now > Intake.idleCheckDelay.inSeconds
                    if peer.observe(QueueCounts(ready: 0, consumers: holderGone ? 0 : 1), now: at(now)) == .exit { exitAt = now }
                }
                now += 0.001
            }
            latest = max(latest, exitAt ?? .infinity)
        }
        #expect(latest <= 0.8 + 0.002, "the latest exit came \(latest) s after the last acknowledgement")
    }

    @Test("a peer still holding items keeps it waiting; items coming back make it consume")
    func peersHoldWork() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        intake.leftEmptyQueue(now: at(1))
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 1), now: at(1)) == .wait)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: at(1.5)) == .wait)
        #expect(intake.observe(QueueCounts(ready: 2, consumers: 0), now: at(2)) == .consume)
        intake.consuming(tag: "c2", on: "q", now: at(2))
        #expect(intake.idleStep(now: at(2.05)) == .none)
    }

    @Test("a consumer cancelled by the broker samples the queue at once")
    func brokerCancel() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        intake.consuming(tag: "c1", on: "q", now: at(5))
        intake.cancelledByBroker()
        #expect(intake.idleStep(now: at(5)) == .sample)
    }

    @Test("deliveries wait in order; stopping takes them all; a reconnect forgets them and the consumer")
    func waitingItems() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        intake.consuming(tag: "c1", on: "q", now: at(0))
        for tag: UInt64 in 1...3 { intake.delivered(delivery(tag), now: at(0)) }
        let first = intake.takeNext()
        #expect(first.tag == 1)
        let rest = intake.takeAll()
        #expect(rest.map(\.tag) == [2, 3])
        #expect(intake.waiting.isEmpty)
        intake.delivered(delivery(4), now: at(1))
        intake.reconnected()
        #expect(intake.waiting.isEmpty)
        #expect(!intake.isConsuming)
    }

    @Test("--wait-for-work: empty samples do not end a processor that has seen no work yet")
    func waitForWork() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(10))
        intake.leftEmptyQueue(now: at(0))
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: at(1)) == .wait)
        #expect(intake.observe(QueueCounts(ready: 0, consumers: 0), now: at(1.5)) == .wait)
        var seen = Intake(startedAt: at(0), waitForWork: .seconds(10))
        seen.arrived(now: at(0.5))
        seen.leftEmptyQueue(now: at(1))
        #expect(seen.observe(QueueCounts(ready: 0, consumers: 0), now: at(1)) == .wait)
        #expect(seen.observe(QueueCounts(ready: 0, consumers: 0), now: at(1.5)) == .exit)
    }

    @Test("with shards: a consumer per shard; a delivery's shard is known by its consumer tag even after the cancel, until a reconnect")
    func shardOfADelivery() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        intake.consuming(tag: "c1", on: "q.0", now: at(1))
        intake.consuming(tag: "c2", on: "q.1", now: at(1))
        #expect(intake.consumerTags == ["c1": "q.0", "c2": "q.1"])
        #expect(intake.workQueue(consumedBy: "c2") == "q.1")
        intake.leftEmptyQueue(now: at(2))
        #expect(!intake.isConsuming)
        // A delivery sent before the cancel still finds its shard.
        #expect(intake.workQueue(consumedBy: "c1") == "q.0")
        #expect(intake.workQueue(consumedBy: "other") == nil)
        intake.reconnected()
        #expect(intake.workQueue(consumedBy: "c1") == nil)
    }

    @Test("while work runs, the busy checks look at one shard each, in turn")
    func busyChecksTakeTurns() {
        var intake = Intake(startedAt: at(0), waitForWork: .seconds(0))
        #expect((0..<5).map { _ in intake.nextShardToCheck(of: 3) } == [0, 1, 2, 0, 1])
    }
}
