import Foundation
import TestSupport
import Testing
import Core
import AMQPClient

/// Issue "a processor that never loses work": real broker, real processes, real kills.
@Suite("Never losing work and never quitting early", .serialized)
struct ReliabilityTests {
    /// With 4 shards the one item lands in QUEUE.0 and QUEUE.1-3 stay empty: the barrier must
    /// hold over every shard.
    @Test("(a) an idle processor exits only after the one holding a slow item finished (one queue, and one shard's only item of 4)",
          arguments: QueueType.allCases, [1, 4])
    func idleWaitsForHolder(type: QueueType, shards: Int) throws {
        let s = try Scenario("barrier", type: type, shards: shards)
        try s.load(["slow"])
        let slow = try s.start("processor", Scenario.shell(#"touch "$OUT/started"; sleep 3; "# + Scenario.appendDone))
        try s.waitForFile("started")
        let idle = try s.start("processor")
        let results = try finish([slow, idle])
        #expect(results[0].result.status == 0, "\(results[0].result.output)")
        #expect(results[1].result.status == 0, "\(results[1].result.output)")
        #expect(results[1].endedAt >= results[0].endedAt.addingTimeInterval(-0.3), "the idle processor left before the holder finished")
        // A quorum queue's empty samples must span 2 s (DrainBarrier.quorumEmptySpan).
        let notice = type == .quorum ? 3.5 : 2.5
        #expect(results[1].endedAt.timeIntervalSince(results[0].endedAt) < notice, "the idle processor took over \(notice) s to notice the end")
        #expect(s.done == ["slow"])
    }

    @Test("(b) when the holder is killed -9, the survivor does its item, then exits 0", arguments: QueueType.allCases)
    func survivorTakesOver(type: QueueType) throws {
        let s = try Scenario("takeover", type: type)
        try s.load(["precious"])
        // The first run of the item hangs (and is killed with its processor); later runs finish.
        let work = #"if [ -e "$OUT/first" ]; then echo "$1" >> "$OUT/done"; else echo $$ > "$OUT/first"; exec sleep 20; fi"#
        let holder = try s.start("processor", Scenario.shell(work))
        try s.waitForFile("first")
        let survivor = try s.start("processor", Scenario.shell(work))
        // A delay that proves a negative: a survivor that wrongly leaves an empty queue does so within it.
        usleep(1_500_000)
        #expect(survivor.isRunning, "the survivor exited while another processor held an item")
        holder.signal(SIGKILL)
        // In a pod, everything dies with the processor; here its command is killed by hand.
        if let pid = Int32(s.lines("first").first ?? "") { kill(-pid, SIGKILL) }
        let result = try survivor.wait(timeout: 30)
        _ = try? holder.wait(timeout: 5)
        #expect(result.status == 0, "\(result.output)")
        #expect(s.done == ["precious"])
    }

    @Test("(c) 4 processors, 2 killed -9 mid-drain and one restarted: every item done, survivors exit 0", arguments: QueueType.allCases)
    func killedMidDrain(type: QueueType) throws {
        let s = try Scenario("kills", type: type)
        try s.load(["--count", "300", "--quiet"])
        let args = ["--quiet"] + Scenario.shell("sleep 0.02; " + Scenario.appendDone)
        var running = try s.startProcessors(4, args)
        try s.waitForDone(40)
        running[0].signal(SIGKILL)
        running[1].signal(SIGKILL)
        _ = try? running[0].wait(timeout: 5)
        _ = try? running[1].wait(timeout: 5)
        running = Array(running[2...]) + [try s.start("processor", args)]
        for r in try finish(running) { #expect(r.result.status == 0, "\(r.result.output)") }
        #expect(Set(s.done) == Set((0..<300).map(String.init)))
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("(d) the broker stopped for 5 s mid-drain: processors reconnect, finish, nothing is lost", arguments: QueueType.allCases)
    func brokerRestart(type: QueueType) throws {
        let s = try Scenario("restart", type: type)
        try s.load(["--count", "200", "--quiet"])
        let running = try s.startProcessors(3, ["--quiet"] + Scenario.shell("sleep 0.03; " + Scenario.appendDone))
        try s.waitForDone(30)
        // The scenario: the broker away for 5 s.
        try BrokerControl.whileStopped { usleep(5_000_000) }
        for r in try finish(running, timeout: 120) {
            #expect(r.result.status == 0, "\(r.result.output)")
            #expect(r.result.stderr.contains("reconnect"), "\(r.result.stderr)")
        }
        #expect(Set(s.done) == Set((0..<200).map(String.init)))
    }

    @Test("the loader survives a broker stop mid-load: re-publishes the unconfirmed, loses nothing, counts exactly")
    func loaderReconnects() throws {
        let s = try Scenario("reload")
        let total = 300_000
        let load = try s.start("loader", ["--count", String(total)])
        try waitUntil("over 20000 items ready") { (try s.counts()?.ready ?? 0) > 20_000 }
        try BrokerControl.whileStopped { try load.waitForOutput("reconnecting", timeout: 30) }
        let result = try load.wait(timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("reconnecting"), "the broker stop came too late to test anything: \(result.stderr)")
        #expect(result.stderr.contains("loaded \(total) items in"), "\(result.stderr)")
        let bodies = try s.drainedBodies()
        #expect(bodies.count >= total)
        #expect(Set(bodies) == Set((0..<total).map(String.init)))
    }

    @Test("(e) a poison item is tried exactly N times, then lands in QUEUE.failed with why", arguments: QueueType.allCases)
    func poisonItem(type: QueueType) throws {
        let s = try Scenario("poison", type: type)
        try s.load(["good-1", "poison", "good-2"])
        let work = #"echo "$1" >> "$OUT/tries"; test "$1" != poison || exit 3"#
        let runs = try s.startProcessors(2, ["--max-attempts", "4"] + Scenario.shell(work))
        for r in try finish(runs) {
            #expect(r.result.status == 0, "\(r.result.output)")
        }
        let tries = s.lines("tries")
        #expect(tries.filter { $0 == "poison" }.count == 4)
        #expect(tries.filter { $0.hasPrefix("good") }.count == 2)
        let dead = try s.drain(s.failedQueue)
        #expect(dead.map(\.body) == [Array("poison".utf8)])
        #expect(dead.first?.headers["x-attempts"] == .int(4))
        #expect(dead.first?.headers["x-exit-status"] == .int(3))
        if case .string(let reason) = dead.first?.headers["x-failure-reason"] {
            #expect(reason.contains("exit status 3"))
        } else {
            Issue.record("no x-failure-reason header")
        }
    }

    @Test("--fail-on-dead-letters exits 1; loader --from-failed moves dead letters back")
    func deadLettersBack() throws {
        let s = try Scenario("back")
        try s.load(["a", "b"])
        let failing = try s.run("processor", ["--max-attempts", "1", "--fail-on-dead-letters", "--", "false"])
        #expect(failing.status == 1, "\(failing.output)")
        #expect(failing.stderr.contains("processed all work: 0 items (2 failed)"))
        #expect(try s.counts(s.failedQueue)?.ready == 2)
        let moved = try s.run("loader", ["--from-failed"])
        #expect(moved.status == 0, "\(moved.output)")
        #expect(moved.stderr.contains("moved 2 items"))
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        let fixed = try s.run("processor", ["--", "true"])
        #expect(fixed.status == 0)
        #expect(fixed.stderr.contains("processed all work: 2 items (0 failed)"))
    }

    @Test("(f) SIGTERM during a long item: exit 143 after the grace, item back in the queue, command gone")
    func sigtermDuringLongItem() throws {
        let s = try Scenario("sigterm")
        try s.load(["long"])
        let stubborn = #"echo $$ > "$OUT/pid"; trap '' TERM; sleep 60"#
        let p = try s.start("processor", ["--grace", "1", "--", "sh", "-c", stubborn])
        try s.waitForFile("pid")
        let pid = Int32(s.lines("pid").first ?? "") ?? -1
        let sent = Date()
        p.signal(SIGTERM)
        let result = try p.wait(timeout: 15)
        #expect(result.status == 143, "\(result.output)")
        #expect(Date().timeIntervalSince(sent) < 4)
        #expect(try processGroupGone(pid), "the command's process group is still alive")
        #expect(try s.counts()?.ready == 1)
        let again = try s.drain()
        #expect(again.first.map(FailurePolicy.attempt(of:)) == 1, "an interrupted item must not count an attempt")
        #expect(again.first?.redelivered == false, "a deliberate return must not look like a processor that died")

        // SIGINT on an idle processor: 130, never 0.
        let idle = try s.start("processor", ["--wait-for-work", "30"])
        try waitUntil("the idle processor to consume from the queue") { try s.counts()?.consumers == 1 }
        idle.signal(SIGINT)
        #expect(try idle.wait(timeout: 10).status == 130)
    }

    @Test("(g) an item longer than 3 heartbeat intervals completes once, without redelivery")
    func heartbeatsDuringLongWork() throws {
        let s = try Scenario("heartbeat")
        try s.load(["long"])
        let r = try s.run("processor", ["--heartbeat", "1"] + Scenario.shell("sleep 4; " + Scenario.appendDone), timeout: 30)
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.stderr.contains("connection lost"), "\(r.stderr)")
        #expect(s.done == ["long"])
    }

    @Test("--wait-for-work lets processors start before the loader")
    func waitForWork() throws {
        let s = try Scenario("early")
        let early = try s.start("processor", ["--wait-for-work", "20"])
        // A delay that proves a negative: without --wait-for-work a processor leaves an empty queue within it.
        usleep(2_000_000)
        #expect(early.isRunning)
        try s.load(["late"])
        let r = try early.wait(timeout: 30)
        #expect(r.status == 0)
        #expect(r.stdout.contains("processed late"))
    }

    @Test("a queue type that does not match the existing queue is a clear error, not a crash")
    func queueTypeMismatch() throws {
        let s = try Scenario("mismatch")
        try s.load(["x"])
        let r = try s.run("processor", ["--queue-type", "quorum"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("--queue-type"), "\(r.stderr)")
    }
}
