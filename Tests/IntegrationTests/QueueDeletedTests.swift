import Foundation
import TestSupport
import Testing
import Core

/// The work queue deleted while processors drain it: every processor ends with one clear line
/// and exit 1, wherever it is (waiting at the drain barrier, or running a long command, which is
/// stopped: its item went with the queue).
@Suite("The work queue deleted at any moment", .serialized)
struct QueueDeletedTests {
    static let gone = "no longer exists (deleted while draining)"

    func deleteQueue(_ queue: String) throws {
        let connection = try TestBroker.connect(queue: queue)
        try connection.deleteQueue(queue)
        connection.close()
    }

    @Test("processors waiting at the drain barrier while a peer runs a long item: all exit 1 with the one line, the holder's command stopped")
    func whileWaitingAtTheBarrier() throws {
        let queue = TestBroker.uniqueQueue("qdel-barrier")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path])
        #expect(try Executables.run("loader", ["long"], environment: env).status == 0)
        let work = #"echo $$ > "$OUT/long"; sleep 60; echo "$1" >> "$OUT/ended""#
        let args = ["--", "sh", "-c", work, "sh", "{}"]
        let holder = try Executables.start("processor", args, environment: env)
        try waitUntil("the long item to start") { FileManager.default.fileExists(atPath: dir.path + "/long") }
        let idle = try (1...2).map { _ in try Executables.start("processor", args, environment: env) }
        try waitUntil("the idle processors to wait at the barrier") {
            let consumers = try TestBroker.counts(queue)?.consumers ?? 0
            return idle.allSatisfy { $0.stderr.contains("connected to work queue") } && consumers == 1
        }
        usleep(1_000_000)  // they sample the queue now, not consuming
        #expect(idle.allSatisfy { $0.isRunning }, "an idle processor exited while a peer held an item")
        let deleted = Date()
        try deleteQueue(queue)
        let results = try finish([holder] + idle, timeout: 30)
        for r in results {
            #expect(r.result.status == 1, "\(r.result.output)")
            #expect(r.result.stderr.contains("processor: the work queue '\(queue)' \(Self.gone)"), "\(r.result.stderr)")
            #expect(r.endedAt.timeIntervalSince(deleted) < 5, "exited \(r.endedAt.timeIntervalSince(deleted)) s after the delete")
        }
        #expect(results[0].result.stderr.contains("the work on 1 item was stopped"), "\(results[0].result.stderr)")
        let pid = Int32(lines(dir.path + "/long").first ?? "") ?? -1
        #expect(try processGroupGone(pid), "the long command outlived its deleted queue")
        #expect(lines(dir.path + "/ended").isEmpty)
    }

    @Test("a long command running when the queue is deleted is stopped at once; the processor exits 1 with the one line",
        arguments: QueueType.allCases)
    func whileACommandRuns(type: QueueType) throws {
        let queue = TestBroker.uniqueQueue("qdel-running")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_TYPE": type.rawValue])
        #expect(try Executables.run("loader", ["long", "next"], environment: env).status == 0)
        // A command that ignores SIGTERM: only a kill stops it.
        let work = #"if [ "$1" = long ]; then echo $$ > "$OUT/long"; trap '' TERM; sleep 60; fi; echo "$1" >> "$OUT/ended""#
        let p = try Executables.start("processor", ["--", "sh", "-c", work, "sh", "{}"], environment: env)
        try waitUntil("the long item to start") { FileManager.default.fileExists(atPath: dir.path + "/long") }
        let deleted = Date()
        try deleteQueue(queue)
        let result = try p.wait(timeout: 30)
        let took = Date().timeIntervalSince(deleted)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("processor: the work queue '\(queue)' \(Self.gone); the work on 1 item was stopped"), "\(result.stderr)")
        #expect(took < 4, "exited \(took) s after the delete")
        let pid = Int32(lines(dir.path + "/long").first ?? "") ?? -1
        #expect(try processGroupGone(pid), "the long command outlived its deleted queue")
        #expect(lines(dir.path + "/ended").isEmpty, "the next item ran, or the long one went on: \(lines(dir.path + "/ended"))")
    }
}
