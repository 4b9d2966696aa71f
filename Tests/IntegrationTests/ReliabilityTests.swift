import Foundation
import TestSupport
import Testing
import Core
import AMQPClient

/// Issue "a processor that never loses work": real broker, real processes, real kills.
@Suite("Never losing work and never quitting early", .serialized)
struct ReliabilityTests {
    @Test("(a) an idle processor exits only after the one holding a slow item finished", arguments: QueueType.allCases)
    func idleWaitsForHolder(type: QueueType) throws {
        let queue = TestBroker.uniqueQueue("barrier")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_TYPE": type.rawValue])
        #expect(try Executables.run("loader", ["slow"], environment: env).status == 0)
        let slow = try Executables.start("processor", ["--", "sh", "-c", #"touch "$OUT/started"; sleep 3; echo "$1" >> "$OUT/done""#, "sh", "{}"], environment: env)
        try waitUntil("$OUT/started to exist") { FileManager.default.fileExists(atPath: dir.path + "/started") }
        let idle = try Executables.start("processor", [], environment: env)
        let results = try finish([slow, idle])
        #expect(results[0].result.status == 0, "\(results[0].result.output)")
        #expect(results[1].result.status == 0, "\(results[1].result.output)")
        #expect(results[1].endedAt >= results[0].endedAt.addingTimeInterval(-0.3), "the idle processor left before the holder finished")
        // A quorum queue's empty samples must span 2 s (DrainBarrier.quorumEmptySpan).
        let notice = type == .quorum ? 3.5 : 2.5
        #expect(results[1].endedAt.timeIntervalSince(results[0].endedAt) < notice, "the idle processor took over \(notice) s to notice the end")
        #expect(lines(dir.path + "/done") == ["slow"])
    }

    @Test("(b) when the holder is killed -9, the survivor does its item, then exits 0", arguments: QueueType.allCases)
    func survivorTakesOver(type: QueueType) throws {
        let queue = TestBroker.uniqueQueue("takeover")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_TYPE": type.rawValue])
        #expect(try Executables.run("loader", ["precious"], environment: env).status == 0)
        // The first run of the item hangs (and is killed with its processor); later runs finish.
        let work = #"if [ -e "$OUT/first" ]; then echo "$1" >> "$OUT/done"; else echo $$ > "$OUT/first"; exec sleep 20; fi"#
        let holder = try Executables.start("processor", ["--", "sh", "-c", work, "sh", "{}"], environment: env)
        try waitUntil("$OUT/first to exist") { FileManager.default.fileExists(atPath: dir.path + "/first") }
        let survivor = try Executables.start("processor", ["--", "sh", "-c", work, "sh", "{}"], environment: env)
        // A delay that proves a negative: a survivor that wrongly leaves an empty queue does so within it.
        usleep(1_500_000)
        #expect(survivor.isRunning, "the survivor exited while another processor held an item")
        holder.signal(SIGKILL)
        // In a pod, everything dies with the processor; here its command is killed by hand.
        if let pid = Int32(lines(dir.path + "/first").first ?? "") { kill(-pid, SIGKILL) }
        let result = try survivor.wait(timeout: 30)
        _ = try? holder.wait(timeout: 5)
        #expect(result.status == 0, "\(result.output)")
        #expect(lines(dir.path + "/done") == ["precious"])
    }

    @Test("(c) 4 processors, 2 killed -9 mid-drain and one restarted: every item done, survivors exit 0", arguments: QueueType.allCases)
    func killedMidDrain(type: QueueType) throws {
        let queue = TestBroker.uniqueQueue("kills")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_TYPE": type.rawValue])
        #expect(try Executables.run("loader", ["--count", "300", "--quiet"], environment: env).status == 0)
        let args = ["--quiet", "--", "sh", "-c", #"sleep 0.02; echo "$1" >> "$OUT/done""#, "sh", "{}"]
        var running = try (1...4).map { _ in try Executables.start("processor", args, environment: env) }
        try waitUntil("40 items done") { lines(dir.path + "/done").count >= 40 }
        running[0].signal(SIGKILL)
        running[1].signal(SIGKILL)
        _ = try? running[0].wait(timeout: 5)
        _ = try? running[1].wait(timeout: 5)
        running = Array(running[2...]) + [try Executables.start("processor", args, environment: env)]
        for r in try finish(running) { #expect(r.result.status == 0, "\(r.result.output)") }
        #expect(Set(lines(dir.path + "/done")) == Set((0..<300).map(String.init)))
        #expect(try TestBroker.counts(queue) == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("(d) the broker stopped for 5 s mid-drain: processors reconnect, finish, nothing is lost", arguments: QueueType.allCases)
    func brokerRestart(type: QueueType) throws {
        let queue = TestBroker.uniqueQueue("restart")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_TYPE": type.rawValue])
        #expect(try Executables.run("loader", ["--count", "200", "--quiet"], environment: env).status == 0)
        let args = ["--quiet", "--", "sh", "-c", #"sleep 0.03; echo "$1" >> "$OUT/done""#, "sh", "{}"]
        let running = try (1...3).map { _ in try Executables.start("processor", args, environment: env) }
        try waitUntil("30 items done") { lines(dir.path + "/done").count >= 30 }
        // The scenario: the broker away for 5 s.
        try BrokerControl.whileStopped { usleep(5_000_000) }
        for r in try finish(running, timeout: 120) {
            #expect(r.result.status == 0, "\(r.result.output)")
            #expect(r.result.stderr.contains("reconnect"), "\(r.result.stderr)")
        }
        #expect(Set(lines(dir.path + "/done")) == Set((0..<200).map(String.init)))
    }

    @Test("the loader survives a broker stop mid-load: re-publishes the unconfirmed, loses nothing, counts exactly")
    func loaderReconnects() throws {
        let queue = TestBroker.uniqueQueue("reload")
        defer { TestBroker.cleanUp(queue) }
        let env = TestBroker.environment(queue: queue)
        let total = 300_000
        let load = try Executables.start("loader", ["--count", String(total)], environment: env)
        try waitUntil("over 20000 items ready") { (try TestBroker.counts(queue)?.ready ?? 0) > 20_000 }
        try BrokerControl.whileStopped { try load.waitForOutput("reconnecting", timeout: 30) }
        let result = try load.wait(timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("reconnecting"), "the broker stop came too late to test anything: \(result.stderr)")
        #expect(result.stderr.contains("loaded \(total) items in"), "\(result.stderr)")
        let bodies = try TestBroker.drain(queue).map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies.count >= total)
        #expect(Set(bodies) == Set((0..<total).map(String.init)))
    }

    @Test("(e) a poison item is tried exactly N times, then lands in QUEUE.failed with why", arguments: QueueType.allCases)
    func poisonItem(type: QueueType) throws {
        let queue = TestBroker.uniqueQueue("poison")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_TYPE": type.rawValue])
        #expect(try Executables.run("loader", ["good-1", "poison", "good-2"], environment: env).status == 0)
        let work = #"echo "$1" >> "$OUT/tries"; test "$1" != poison || exit 3"#
        let runs = try (1...2).map { _ in
            try Executables.start("processor", ["--max-attempts", "4", "--", "sh", "-c", work, "sh", "{}"], environment: env)
        }
        for r in try finish(runs) {
            #expect(r.result.status == 0, "\(r.result.output)")
        }
        let tries = lines(dir.path + "/tries")
        #expect(tries.filter { $0 == "poison" }.count == 4)
        #expect(tries.filter { $0.hasPrefix("good") }.count == 2)
        let dead = try TestBroker.drain(queue + ".failed")
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
        let queue = TestBroker.uniqueQueue("back")
        defer { TestBroker.cleanUp(queue) }
        let env = TestBroker.environment(queue: queue)
        #expect(try Executables.run("loader", ["a", "b"], environment: env).status == 0)
        let failing = try Executables.run("processor", ["--max-attempts", "1", "--fail-on-dead-letters", "--", "false"], environment: env)
        #expect(failing.status == 1, "\(failing.output)")
        #expect(failing.stderr.contains("processed all work: 0 items (2 failed)"))
        #expect(try TestBroker.counts(queue + ".failed")?.ready == 2)
        let moved = try Executables.run("loader", ["--from-failed"], environment: env)
        #expect(moved.status == 0, "\(moved.output)")
        #expect(moved.stderr.contains("moved 2 items"))
        #expect(try TestBroker.counts(queue + ".failed")?.ready == 0)
        let fixed = try Executables.run("processor", ["--", "true"], environment: env)
        #expect(fixed.status == 0)
        #expect(fixed.stderr.contains("processed all work: 2 items (0 failed)"))
    }

    @Test("(f) SIGTERM during a long item: exit 143 after the grace, item back in the queue, command gone")
    func sigtermDuringLongItem() throws {
        let queue = TestBroker.uniqueQueue("sigterm")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path])
        #expect(try Executables.run("loader", ["long"], environment: env).status == 0)
        let stubborn = #"echo $$ > "$OUT/pid"; trap '' TERM; sleep 60"#
        let p = try Executables.start("processor", ["--grace", "1", "--", "sh", "-c", stubborn], environment: env)
        try waitUntil("$OUT/pid to exist") { FileManager.default.fileExists(atPath: dir.path + "/pid") }
        let pid = Int32(lines(dir.path + "/pid").first ?? "") ?? -1
        let sent = Date()
        p.signal(SIGTERM)
        let result = try p.wait(timeout: 15)
        #expect(result.status == 143, "\(result.output)")
        #expect(Date().timeIntervalSince(sent) < 4)
        #expect(try processGroupGone(pid), "the command's process group is still alive")
        #expect(try TestBroker.counts(queue)?.ready == 1)
        let again = try TestBroker.drain(queue)
        #expect(again.first.map(FailurePolicy.attempt(of:)) == 1, "an interrupted item must not count an attempt")
        #expect(again.first?.redelivered == false, "a deliberate return must not look like a processor that died")

        // SIGINT on an idle processor: 130, never 0.
        let idle = try Executables.start("processor", ["--wait-for-work", "30"], environment: env)
        try waitUntil("the idle processor to consume from the queue") { try TestBroker.counts(queue)?.consumers == 1 }
        idle.signal(SIGINT)
        #expect(try idle.wait(timeout: 10).status == 130)
    }

    @Test("(g) an item longer than 3 heartbeat intervals completes once, without redelivery")
    func heartbeatsDuringLongWork() throws {
        let queue = TestBroker.uniqueQueue("heartbeat")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path])
        #expect(try Executables.run("loader", ["long"], environment: env).status == 0)
        let r = try Executables.run(
            "processor", ["--heartbeat", "1", "--", "sh", "-c", #"sleep 4; echo "$1" >> "$OUT/done""#, "sh", "{}"],
            environment: env, timeout: 30)
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.stderr.contains("connection lost"), "\(r.stderr)")
        #expect(lines(dir.path + "/done") == ["long"])
    }

    @Test("--wait-for-work lets processors start before the loader")
    func waitForWork() throws {
        let queue = TestBroker.uniqueQueue("early")
        defer { TestBroker.cleanUp(queue) }
        let env = TestBroker.environment(queue: queue)
        let early = try Executables.start("processor", ["--wait-for-work", "20"], environment: env)
        // A delay that proves a negative: without --wait-for-work a processor leaves an empty queue within it.
        usleep(2_000_000)
        #expect(early.isRunning)
        #expect(try Executables.run("loader", ["late"], environment: env).status == 0)
        let r = try early.wait(timeout: 30)
        #expect(r.status == 0)
        #expect(r.stdout.contains("processed late"))
    }

    @Test("a queue type that does not match the existing queue is a clear error, not a crash")
    func queueTypeMismatch() throws {
        let queue = TestBroker.uniqueQueue("mismatch")
        defer { TestBroker.cleanUp(queue) }
        let env = TestBroker.environment(queue: queue)
        #expect(try Executables.run("loader", ["x"], environment: env).status == 0)
        let r = try Executables.run("processor", ["--queue-type", "quorum"], environment: env)
        #expect(r.status == 1)
        #expect(r.stderr.contains("--queue-type"), "\(r.stderr)")
    }
}
