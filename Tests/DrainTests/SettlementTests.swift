import Testing

import Core
import Platform
import AMQPClient
import ProcessRunner
@testable import Drain

/// The settlement on its own against `InMemoryBroker` and `TestLoopClock`: what it acknowledges,
/// when, and after which event; copies and their confirms; an alarm; a lost connection.
@Suite("Settlement: acknowledgements, copies and their confirms, against an in-memory broker")
struct SettlementTests {
    static let queue = "settle"

    /// What the settlement asked the loop to publish.
    final class Reports: SettlementReports {
        /// Called at each counts event, while the settlement waits to acknowledge.
        var onCounts: () -> Void = {}
        private(set) var counts = 0
        private(set) var failures: [(label: String, outcome: FailureEvent.Outcome)] = []

        func reportCounts() {
            counts += 1
            onCounts()
        }

        func reportFailure(_ label: String, attempt: Int, outcome: FailureEvent.Outcome, reason: String, exit: ChildExit?) {
            failures.append((label, outcome))
        }
    }

    /// A settlement over two open connections to an in-memory broker, consuming `queue`.
    final class Fixture {
        let broker: InMemoryBroker
        let clock = TestLoopClock()
        let reports = Reports()
        let settlement: Settlement
        let settings: ConnectionSettings
        var links: BrokerLinks

        init(items: [String], configure: (inout ProcessorConfiguration) -> Void = { _ in }) throws {
            broker = InMemoryBroker(queue: SettlementTests.queue, items: items)
            var settings = ConnectionSettings()
            settings.queue = SettlementTests.queue
            self.settings = settings
            var config = ProcessorConfiguration(connection: settings, podName: "test-pod")
            configure(&config)
            settlement = Settlement(config: config, log: Log(quiet: true), clock: clock)
            settlement.reports = reports
            links = BrokerLinks(startAddress: 0, opener: broker.open)
            try connect()
        }

        func connect() throws {
            try links.open(settings, podName: "test-pod")
            _ = try links.consume!.consume(queue: SettlementTests.queue)
        }

        /// Takes `count` deliveries, as the loop's `receive` does.
        func deliver(_ count: Int) throws -> [Delivery] {
            var delivered: [Delivery] = []
            while delivered.count < count, case .delivery(let delivery)? = try links.consume!.nextEvent(timeout: .zero) {
                settlement.delivered(delivery)
                delivered.append(delivery)
            }
            return delivered
        }

        func item(_ delivery: Delivery, attempt: Int = 1) -> RunningItem {
            RunningItem(delivery: delivery, generation: links.generation, attempt: attempt, startedAt: clock.now())
        }

        func acknowledged() -> [String] { broker.acknowledged.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test("successes are counted in an event first, then acknowledged with one multiple ack")
    func successes() throws {
        let f = try Fixture(items: ["a", "b", "c"])
        for delivery in try f.deliver(3) { try f.settlement.settle(f.item(delivery), .succeeded, f.links) }
        #expect(f.acknowledged().isEmpty, "held for a batch")
        var atEvent: (processed: Int, acknowledged: Int)?
        f.reports.onCounts = { atEvent = (f.settlement.stats.processed, f.broker.acknowledged.count) }
        try f.settlement.flush(f.links)
        #expect(atEvent?.processed == 3 && atEvent?.acknowledged == 0)
        #expect(f.acknowledged() == ["a", "b", "c"])
        #expect(f.broker.ackFrames.count == 1 && f.broker.ackFrames.first?.multiple == true)
    }

    @Test("a finished item above an unsettled one is acknowledged on its own, never by a multiple ack covering it")
    func neverPastUnsettled() throws {
        let f = try Fixture(items: ["a", "b", "c"])
        let delivered = try f.deliver(3)
        try f.settlement.settle(f.item(delivered[0]), .succeeded, f.links)
        try f.settlement.settle(f.item(delivered[2]), .succeeded, f.links)
        try f.settlement.flush(f.links)
        #expect(Set(f.acknowledged()) == ["a", "c"])
        try f.settlement.settle(f.item(delivered[1]), .succeeded, f.links)
        try f.settlement.flush(f.links)
        #expect(Set(f.acknowledged()) == ["a", "b", "c"])
        #expect(f.settlement.stats.processed == 3)
    }

    @Test("a dead letter's original is acknowledged only once its copy is confirmed, and counted in an event first")
    func deadLetterWaitsForItsConfirm() throws {
        let f = try Fixture(items: ["a"]) { $0.maxAttempts = 1 }
        f.broker.holdConfirms = true
        let a = try f.deliver(1)[0]
        try f.settlement.settle(f.item(a), .failed(reason: "exit 1", exit: nil), f.links)
        try f.settlement.pump(f.links, now: f.clock.now())
        #expect(f.broker.unconfirmedCount == 1 && f.settlement.holdsCopies)
        #expect(f.acknowledged().isEmpty && f.settlement.stats.deadLettered == 0)
        #expect(f.reports.failures.map(\.outcome) == [.deadLetter])
        f.broker.holdConfirms = false
        var atEvent: (deadLettered: Int, acknowledged: Int)?
        f.reports.onCounts = { atEvent = (f.settlement.stats.deadLettered, f.broker.acknowledged.count) }
        try f.settlement.pump(f.links, now: f.clock.now())
        #expect(atEvent?.deadLettered == 1 && atEvent?.acknowledged == 0)
        #expect(f.acknowledged() == ["a"] && !f.settlement.holdsCopies)
        #expect(f.broker.ready(Self.queue + ".failed") == ["a"])
        #expect(f.broker.queues[Self.queue + ".failed"]?.first?.headers["x-failure-reason"] == .string("exit 1"))
        #expect(f.settlement.stats.failedAttempts == 1)
    }

    @Test("a failed attempt with attempts left is queued again with the next attempt number, counted as retried")
    func retry() throws {
        let f = try Fixture(items: ["a"]) { $0.maxAttempts = 3 }
        let a = try f.deliver(1)[0]
        try f.settlement.settle(f.item(a, attempt: 1), .failed(reason: "exit 1", exit: nil), f.links)
        try f.settlement.pump(f.links, now: f.clock.now())
        #expect(f.broker.ready(Self.queue) == ["a"])
        #expect(f.broker.queues[Self.queue]?.first?.headers[FailurePolicy.attemptsHeader] == .int(2))
        #expect(f.acknowledged() == ["a"])
        #expect(f.settlement.stats.retried == 1 && f.settlement.stats.deadLettered == 0)
        #expect(f.reports.failures.map(\.outcome) == [.retry])
    }

    @Test("while the broker blocks publishing, copies wait unpublished; they go once it resumes")
    func alarmHoldsCopies() throws {
        let f = try Fixture(items: ["a"])
        f.broker.alarm = "memory"
        let a = try f.deliver(1)[0]
        try f.settlement.returnToQueue([(a, 1)], f.links)
        try f.settlement.pump(f.links, now: f.clock.now())
        #expect(f.broker.publishedWhileBlocked == 0 && f.broker.unconfirmedCount == 0)
        #expect(f.settlement.publishingBlockedFor == "memory" && f.settlement.holdsCopies)
        #expect(f.acknowledged().isEmpty)
        f.broker.alarm = nil
        // Published on the first pass, its confirm read on the next.
        try f.settlement.pump(f.links, now: f.clock.now())
        #expect(f.broker.unconfirmedCount == 1 && f.acknowledged().isEmpty)
        try f.settlement.pump(f.links, now: f.clock.now())
        #expect(f.settlement.publishingBlockedFor == nil && !f.settlement.holdsCopies)
        #expect(f.broker.ready(Self.queue) == ["a"] && f.acknowledged() == ["a"])
    }

    @Test("after a lost connection nothing of the old one is acknowledged on the new one, and its late results are only logged")
    func lostConnection() throws {
        let f = try Fixture(items: ["a", "b"])
        f.broker.holdConfirms = true
        let delivered = try f.deliver(2)
        let a = f.item(delivered[0])
        try f.settlement.settle(a, .succeeded, f.links)
        try f.settlement.settle(f.item(delivered[1]), .failed(reason: "exit 1", exit: nil), f.links)
        #expect(f.settlement.holdsCopies)
        f.broker.loseConnections()
        f.settlement.connectionLost()
        f.links.lost()
        f.broker.holdConfirms = false
        try f.connect()
        #expect(!f.settlement.holdsCopies)
        // The double traps an ack of a tag its connection never delivered.
        try f.settlement.flush(f.links)
        try f.settlement.pump(f.links, now: f.clock.now())
        try f.settlement.settle(a, .succeeded, f.links)
        try f.settlement.flush(f.links)
        #expect(f.acknowledged().isEmpty)
        #expect(f.settlement.stats.processed == 0 && f.settlement.stats.retried == 0)
        // Both come back, redelivered, on the new connection.
        #expect(try f.deliver(2).map(\.redelivered) == [true, true])
    }

    @Test("finished items are held while other work is at hand, and acknowledged after AckPacing.hold on the loop's clock")
    func pacing() throws {
        let f = try Fixture(items: ["a", "b"]) { $0.prefetch = 8 }
        let delivered = try f.deliver(2)
        try f.settlement.settle(f.item(delivered[0]), .succeeded, f.links)
        let before = f.clock.now()
        try f.settlement.pace(f.links, now: f.clock.now(), waiting: 4, mayHold: true)
        #expect(f.acknowledged().isEmpty)
        let due = try #require(f.settlement.acksDue)
        #expect(due >= before + AckPacing.hold && due <= f.clock.now() + AckPacing.hold)
        f.clock.sleep(for: AckPacing.hold)
        try f.settlement.pace(f.links, now: f.clock.now(), waiting: 4, mayHold: true)
        #expect(f.acknowledged() == ["a"] && f.settlement.acksDue == nil)
        // While stopping (or with --no-progress) they are not held.
        try f.settlement.settle(f.item(delivered[1]), .succeeded, f.links)
        try f.settlement.pace(f.links, now: f.clock.now(), waiting: 4, mayHold: false)
        #expect(f.acknowledged() == ["a", "b"])
    }

    @Test("on the way out, unconfirmed copies get their limit on the loop's clock, not in real time")
    func settleCopiesOnTheLoopClock() throws {
        let f = try Fixture(items: ["a"])
        f.broker.holdConfirms = true
        let a = try f.deliver(1)[0]
        try f.settlement.returnToQueue([(a, 1)], f.links)
        let started = ContinuousClock.now
        f.settlement.settleCopies(within: .seconds(2), f.links)
        #expect(f.clock.skipped >= .seconds(2))
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(f.settlement.holdsCopies && f.acknowledged().isEmpty)
        f.broker.holdConfirms = false
        f.settlement.settleCopies(within: .seconds(2), f.links)
        #expect(!f.settlement.holdsCopies && f.acknowledged() == ["a"])
    }

    @Test("a copy the broker takes but never confirms is given up like a lost connection")
    func confirmTimeout() throws {
        let f = try Fixture(items: ["a"])
        f.broker.holdConfirms = true
        let a = try f.deliver(1)[0]
        try f.settlement.returnToQueue([(a, 1)], f.links)
        f.clock.sleep(for: AMQPConnection.confirmTimeout + .seconds(1))
        #expect(throws: WorkQueueError.self) { try f.settlement.pump(f.links, now: f.clock.now()) }
        #expect(f.acknowledged().isEmpty)
    }
}
