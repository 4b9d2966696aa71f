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
        let s = try Scenario("qdel-barrier")
        let queue = s.queue
        try s.load(["long"])
        let args = Scenario.shell(#"echo $$ > "$OUT/long"; sleep 60; echo "$1" >> "$OUT/ended""#)
        let holder = try s.start("processor", args)
        try s.waitForFile("long")
        let idle = try s.startProcessors(2, args)
        try waitUntil("the idle processors to wait at the barrier") {
            let consumers = try s.counts()?.consumers ?? 0
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
        let pid = Int32(s.lines("long").first ?? "") ?? -1
        #expect(try processGroupGone(pid), "the long command outlived its deleted queue")
        #expect(s.lines("ended").isEmpty)
    }

    @Test("a long command running when the queue is deleted is stopped at once; the processor exits 1 with the one line",
        arguments: QueueType.allCases)
    func whileACommandRuns(type: QueueType) throws {
        let s = try Scenario("qdel-running", type: type)
        let queue = s.queue
        try s.load(["long", "next"])
        // A command that ignores SIGTERM: only a kill stops it.
        let work = #"if [ "$1" = long ]; then echo $$ > "$OUT/long"; trap '' TERM; sleep 60; fi; echo "$1" >> "$OUT/ended""#
        let p = try s.start("processor", Scenario.shell(work))
        try s.waitForFile("long")
        let deleted = Date()
        try deleteQueue(queue)
        let result = try p.wait(timeout: 30)
        let took = Date().timeIntervalSince(deleted)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("processor: the work queue '\(queue)' \(Self.gone); the work on 1 item was stopped"), "\(result.stderr)")
        #expect(took < 4, "exited \(took) s after the delete")
        let pid = Int32(s.lines("long").first ?? "") ?? -1
        #expect(try processGroupGone(pid), "the long command outlived its deleted queue")
        #expect(s.lines("ended").isEmpty, "the next item ran, or the long one went on: \(s.lines("ended"))")
    }

    @Test("one shard deleted while an item of another shard runs: exit 1, the line says that item goes back to its shard, and it is there")
    func aShardDeletedWhileAnotherShardsItemRuns() throws {
        let s = try Scenario("qdel-shard", shards: 3)
        let queue = s.queue
        // Round-robin from shard 0: "long" in .0, "a" in .1, "b" in .2.
        try s.load(["long", "a", "b"])
        let work = #"if [ "$1" = long ]; then echo $$ > "$OUT/long"; sleep 60; fi; echo "$1" >> "$OUT/ended""#
        let p = try s.start("processor", ["--prefetch", "1"] + Scenario.shell(work))
        try s.waitForFile("long")
        try deleteQueue("\(queue).2")
        let result = try p.wait(timeout: 30)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("the work queue '\(queue).2' \(Self.gone); the work on 1 item of another shard was stopped (it goes back to its shard)"),
                "\(result.stderr)")
        #expect(!result.stderr.contains("went with the queue"), "\(result.stderr)")
        let pid = Int32(s.lines("long").first ?? "") ?? -1
        #expect(try processGroupGone(pid), "the long command outlived the processor")
        try waitUntil("the long item back in its shard") { try s.counts("\(queue).0")?.ready == 1 }
    }
}
