import Foundation
import TestSupport
import Testing
import Core
import AMQPClient

/// `--shards N` against a real broker: the loader spreads the items over `QUEUE.0` ... `QUEUE.N-1`,
/// every processor consumes all of them, and the promises of one queue hold over the shards.
@Suite("Shards: the work spread over N queues, drained as one", .serialized)
struct ShardTests {
    @Test("2,000 items over 4 shards, 5 processors, one killed -9 and one SIGTERM'd mid-way: every item done, the rest exit 0, every shard empty")
    func shardedDrainWithKills() throws {
        let s = try Scenario("shards", shards: 4)
        let total = 2000
        try s.load(["--count", String(total), "--quiet"])
        // Round-robin: each shard holds a quarter, item i in shard i mod 4.
        for queue in s.workQueues { #expect(try s.counts(queue)?.ready == total / 4, "\(queue)") }
        #expect(try s.counts(s.queue) == nil, "QUEUE itself is not used with shards")
        let args = ["--quiet", "--prefetch", "4", "--grace", "5"] + Scenario.shell(Scenario.appendDone)
        let running = try s.startProcessors(5, args)
        try s.waitForDone(500, timeout: 60)
        running[0].signal(SIGKILL)
        running[1].signal(SIGTERM)
        let stopped = try running[1].wait(timeout: 15)
        #expect(stopped.status == 143, "\(stopped.output)")
        _ = try? running[0].wait(timeout: 5)
        for r in try finish(Array(running[2...])) { #expect(r.result.status == 0, "\(r.result.output)") }
        let done = s.done
        #expect(Set(done) == Set((0..<total).map(String.init)))
        // Only the items the killed processor held (4 at most) may have run twice.
        #expect(done.count - total <= 4, "\(done.count - total) items ran twice")
        for queue in s.workQueues { #expect(try s.counts(queue) == QueueCounts(ready: 0, consumers: 0), "\(queue)") }
    }

    @Test("a failing item is retried on its own shard, then lands in the one QUEUE.failed after its attempts")
    func failingItemsEndInTheOneFailedQueue() throws {
        let s = try Scenario("shards-poison", shards: 3)
        try s.load(["good-1", "poison-1", "good-2", "poison-2", "good-3", "poison-3"])
        let work = #"echo "$1" >> "$OUT/tries"; case "$1" in poison*) exit 3 ;; esac"#
        for r in try finish(try s.startProcessors(2, ["--max-attempts", "3"] + Scenario.shell(work))) {
            #expect(r.result.status == 0, "\(r.result.output)")
        }
        let tries = s.lines("tries")
        for i in 1...3 {
            #expect(tries.filter { $0 == "poison-\(i)" }.count == 3)
            #expect(tries.filter { $0 == "good-\(i)" }.count == 1)
        }
        let dead = try s.drain(s.failedQueue)
        #expect(Set(dead.map { String(decoding: $0.body, as: UTF8.self) }) == ["poison-1", "poison-2", "poison-3"])
        #expect(dead.allSatisfy { $0.headers["x-attempts"] == .int(3) })
        for queue in s.workQueues { #expect(try s.counts(queue)?.ready == 0, "\(queue)") }
    }

    @Test("the broker stopped for 1 s mid-drain of 3 shards: processors reconnect, consume every shard again, nothing is lost")
    func brokerRestartMidShardedDrain() throws {
        let s = try Scenario("shards-restart", shards: 3)
        try s.load(["--count", "300", "--quiet"])
        let running = try s.startProcessors(3, ["--quiet"] + Scenario.shell("sleep 0.02; " + Scenario.appendDone))
        try s.waitForDone(40)
        // stop_app and start_app take a few seconds themselves: the drain is cut for longer than 1 s.
        try BrokerControl.whileStopped { usleep(1_000_000) }
        for r in try finish(running, timeout: 120) {
            #expect(r.result.status == 0, "\(r.result.output)")
            #expect(r.result.stderr.contains("reconnect"), "\(r.result.stderr)")
        }
        #expect(Set(s.done) == Set((0..<300).map(String.init)))
        for queue in s.workQueues { #expect(try s.counts(queue)?.ready == 0, "\(queue)") }
    }

    @Test("processors with another --shards than the loader's do not exit 0 with the work left in the shards")
    func mismatchedShardCountIsRefused() throws {
        let s = try Scenario("shards-mismatch", shards: 2)
        try s.load(["a", "b", "c"])
        let result = try s.run("processor", ["--", "true"], adding: ["WORK_QUEUE_SHARDS": "1"])
        #expect(result.status == 64, "\(result.output)")
        #expect(result.stderr.contains("every tool of the Job must use the same --shards"), "\(result.stderr)")
        #expect(try s.counts(s.queue + ".0")?.ready == 2)
        // The same processors with the loader's count drain it.
        let right = try s.run("processor", ["--", "true"])
        #expect(right.status == 0, "\(right.output)")
        #expect(right.stderr.contains("processed all work: 3 items"), "\(right.stderr)")
    }
}
