import Testing
import Glibc
import Core
import Platform
import ProcessRunner
import Drain

/// Whole scenarios through the processor's loop against `InMemoryBroker` and `TestLoopClock`:
/// the loop's decisions without a broker. Commands are real (`/bin/sh -c`). Serialized: each
/// processor installs the process's signal handlers (its `SignalPipe`).
@Suite("The processor's loop as a whole, against an in-memory broker on a test clock", .serialized)
struct ProcessorScenarioTests {
    let queue = "scenario"

    func processor(
        _ broker: InMemoryBroker, _ clock: TestLoopClock, command: String, configure: (inout ProcessorConfiguration) -> Void = { _ in }
    ) throws -> Processor {
        var settings = ConnectionSettings()
        settings.queue = queue
        var config = ProcessorConfiguration(connection: settings, podName: "test-pod")
        config.command = WorkCommand(arguments: ["/bin/sh", "-c", command])
        config.quiet = true
        configure(&config)
        return try Processor(config: config, log: Log(quiet: true), clock: clock, opener: broker.open)
    }

    func strings(_ bodies: [[UInt8]]) -> [String] { bodies.map { String(decoding: $0, as: UTF8.self) } }

    @Test func sigtermMidItemWithGraceRunningOutKillsTheCommandAndReturnsTheItem() throws {
        let broker = InMemoryBroker(queue: queue, items: ["a"])
        let clock = TestLoopClock()
        let ready = "/tmp/wq-scenario-\(getpid())-ready"
        unlink(ready)
        defer { unlink(ready) }
        // Ignores SIGTERM (said by a file once the trap is set): only the SIGKILL after the grace period ends it.
        let processor = try processor(broker, clock, command: "trap '' TERM; : > \(ready); exec sleep 60") { $0.grace = .seconds(30) }
        var signalled = false
        broker.onRead = { [unowned processor] in
            if !signalled && access(ready, F_OK) == 0 {
                signalled = true
                processor.requestStop(SIGTERM)
            }
        }
        let started = ContinuousClock.now
        let code = try processor.run()
        #expect(signalled)
        #expect(code == 143)
        // The grace period ran out on the test clock, not in real time.
        #expect(clock.skipped >= .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(20))
        // A copy back in the queue without an attempt spent, the original acknowledged once it was stored.
        #expect(broker.ready(queue) == ["a"])
        #expect(broker.queues[queue]?.first?.headers[FailurePolicy.attemptsHeader] == .int(1))
        #expect(strings(broker.acknowledged) == ["a"])
        #expect(broker.ready(queue + ".failed").isEmpty)
        #expect(processor.stats.processed == 0)
    }

    @Test func lostConnectionWithCopiesPendingAcknowledgesNoOriginalOfAnUnconfirmedCopy() throws {
        let broker = InMemoryBroker(queue: queue, items: ["a"])
        broker.holdConfirms = true
        let clock = TestLoopClock()
        let processor = try processor(broker, clock, command: "exit 1") { $0.maxAttempts = 2 }
        var acknowledgedAtLoss: [[UInt8]]?
        broker.onRead = {
            // The failed item's retry copy is published and unconfirmed: the connection goes.
            if acknowledgedAtLoss == nil && broker.unconfirmedCount > 0 {
                acknowledgedAtLoss = broker.acknowledged
                broker.loseConnections()
                broker.holdConfirms = false
            }
        }
        let code = try processor.run()
        #expect(code == 0)
        #expect(acknowledgedAtLoss == [])
        #expect(broker.connections.count == 4)
        // Redelivered after the loss, the death counted, failed again: dead-lettered once, nothing lost or doubled.
        #expect(broker.ready(queue).isEmpty)
        #expect(broker.ready(queue + ".failed") == ["a"])
        #expect(processor.stats.deadLettered == 1)
    }

    /// The loop starts the next item as soon as a command is reaped, before settling it: one slot
    /// must still mean one command at a time, and every result must still be settled.
    @Test func oneSlotRunsOneCommandAtATimeAndSettlesEveryResultWhileTheNextRuns() throws {
        let items = ["a", "b", "c", "d", "e", "f"]
        let broker = InMemoryBroker(queue: queue, items: items)
        let clock = TestLoopClock()
        let log = "/tmp/wq-scenario-\(getpid())-order"
        let failedOnce = log + "-c-failed"
        unlink(log)
        unlink(failedOnce)
        defer {
            unlink(log)
            unlink(failedOnce)
        }
        // Each says when it starts and ends; c fails its first attempt.
        let command = """
            echo "start $WORK_ITEM" >> \(log); sleep 0.02; echo "end $WORK_ITEM" >> \(log)
            if [ "$WORK_ITEM" = c ] && [ ! -e \(failedOnce) ]; then : > \(failedOnce); exit 3; fi
            """
        let processor = try processor(broker, clock, command: command) { $0.prefetch = 10 }
        let code = try processor.run()
        #expect(code == 0)
        let lines = String(decoding: FileBytes.read(path: log) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2 * (items.count + 1))
        for pair in stride(from: 0, to: lines.count - 1, by: 2) {
            let started = lines[pair].dropFirst("start ".count)
            #expect(lines[pair].hasPrefix("start ") && lines[pair + 1] == "end \(started)", "\(lines)")
        }
        #expect(Set(strings(broker.acknowledged)) == Set(items))
        #expect(broker.ready(queue).isEmpty)
        #expect(broker.ready(queue + ".failed").isEmpty)
        #expect(processor.stats.processed == items.count)
        #expect(processor.stats.retried == 1)
    }

    @Test func lostConnectionMidItemLeavesItsResultUnacknowledgedAndTheItemRunsAgain() throws {
        let broker = InMemoryBroker(queue: queue, items: ["a"])
        let clock = TestLoopClock()
        let processor = try processor(broker, clock, command: "sleep 0.2")
        var lost = false
        broker.onRead = {
            if !lost && broker.ready(self.queue).isEmpty {
                lost = true
                broker.loseConnections()
            }
        }
        let code = try processor.run()
        #expect(code == 0)
        #expect(lost)
        // The first run's result was not acknowledged on the new connection (the double traps an
        // unknown tag); the redelivery was published again with the death counted, then done.
        #expect(strings(broker.acknowledged) == ["a", "a"])
        #expect(broker.ready(queue).isEmpty)
        #expect(processor.stats.processed == 1)
    }

    @Test func alarmMidBatchKeepsTheWorkGoingAndHoldsCopiesUntilItEnds() throws {
        let broker = InMemoryBroker(queue: queue, items: ["a", "b", "c", "d"])
        let clock = TestLoopClock()
        let processor = try processor(broker, clock, command: "test \"$WORK_ITEM\" != b") {
            $0.prefetch = 4
            $0.maxAttempts = 1
        }
        var acknowledgedDuringAlarm: [String] = []
        var deadLettersDuringAlarm: [String] = []
        var alarmEnded = false
        broker.onRead = {
            let done = self.strings(broker.acknowledged)
            if !alarmEnded && broker.alarm == nil && broker.ready(self.queue).count == 3 {
                // Mid-batch: a is delivered, b, c and d are on their way; the broker raises a memory alarm.
                broker.alarm = "memory"
            } else if broker.alarm != nil && done.contains("c") && done.contains("d") {
                acknowledgedDuringAlarm = done
                deadLettersDuringAlarm = broker.ready(self.queue + ".failed")
                broker.alarm = nil
                alarmEnded = true
            }
        }
        let code = try processor.run()
        #expect(code == 0)
        #expect(alarmEnded)
        // c and d were done while the broker blocked publishing; b's dead letter waited, its original held.
        #expect(acknowledgedDuringAlarm.contains("c") && acknowledgedDuringAlarm.contains("d"))
        #expect(!acknowledgedDuringAlarm.contains("b"))
        #expect(deadLettersDuringAlarm.isEmpty)
        #expect(broker.publishedWhileBlocked == 0)
        #expect(broker.ready(queue + ".failed") == ["b"])
        #expect(Set(strings(broker.acknowledged)) == ["a", "b", "c", "d"])
        #expect(processor.stats.processed == 3)
        #expect(processor.stats.deadLettered == 1)
    }

    @Test func brokerGoneForGoodMidItemGivesUpOnTheLoopClockAndEndsTheCommandWithinTheGrace() throws {
        let broker = InMemoryBroker(queue: queue, items: ["a"])
        let clock = TestLoopClock()
        let ready = "/tmp/wq-scenario-\(getpid())-gone"
        unlink(ready)
        defer { unlink(ready) }
        // Ignores SIGTERM: only the SIGKILL after the grace (on the way out) ends it.
        let processor = try processor(broker, clock, command: "trap '' TERM; : > \(ready); exec sleep 60") {
            $0.grace = .seconds(1)
            $0.reconnectTimeout = .seconds(120)
        }
        broker.onRead = {
            if !broker.refuseConnections && access(ready, F_OK) == 0 {
                broker.loseConnections()
                broker.refuseConnections = true
            }
        }
        let started = ContinuousClock.now
        #expect(throws: WorkQueueError.self) { try processor.run() }
        // The reconnect timeout ran out on the test clock; the grace on the way out is measured
        // on that clock too, so the command was killed after about a second of real time.
        #expect(broker.refuseConnections)
        #expect(clock.skipped >= .seconds(120))
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(broker.acknowledged.isEmpty)
        #expect(broker.ready(queue) == ["a"])
    }

    @Test func barrierWaitsWhileAnotherConsumerHoldsWorkAndTakesWhatItReturns() throws {
        let broker = InMemoryBroker(queue: queue, items: [])
        // Another processor consumes the queue and holds an item.
        broker.otherConsumers[queue] = 1
        let clock = TestLoopClock()
        let processor = try processor(broker, clock, command: "exit 0")
        var samples = 0
        broker.onInspect = { name in
            guard name == queue, broker.otherConsumers[queue] == 1 else { return }
            samples += 1
            if samples == 20 {
                // The holder leaves; its item comes back to the queue.
                broker.otherConsumers[queue] = 0
                broker.queues[queue, default: []].append(InMemoryBroker.Message(body: Array("x".utf8), redelivered: true))
            }
        }
        let code = try processor.run()
        #expect(code == 0)
        #expect(samples == 20)
        #expect(clock.skipped >= .seconds(5))
        // The returned item was taken and done (a redelivered item without attempts counts its dead holder).
        #expect(broker.ready(queue).isEmpty)
        #expect(processor.stats.processed == 1)
    }
}
