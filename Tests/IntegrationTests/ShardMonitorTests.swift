import Foundation
import Core
import TestSupport
import Testing
import AMQPClient

/// One `wqtop --json` line with shards: the totals and each shard.
private struct ShardedLine: Decodable {
    struct Shard: Decodable, Equatable {
        var queue: String
        var ready: Int?
        var consumers: Int?
        var lagging: Bool
    }

    var state: String
    var ready: Int
    var consumers: Int
    var finished: Bool
    var shards: [Shard]?
    var shards_warning: String?
}

/// A Job of `shards` work queues on the test broker, loaded here directly (by publishing with
/// confirms), so these tests need no sharded loader; its shards are deleted as it goes (the
/// scenario deletes the rest).
private final class ShardedJob {
    let scenario: Scenario
    let topology: Topology
    let connection: AMQPConnection

    init(_ label: String, shards: Int) throws {
        scenario = try Scenario(label, environment: ["WORK_QUEUE_SHARDS": String(shards)])
        topology = Topology(queue: scenario.queue, queueType: .classic, shards: shards)
        connection = try scenario.connect()
        try topology.declare(using: connection.declareQueue, orFind: connection.inspectQueue)
        try connection.enableConfirms()
    }

    deinit {
        for name in topology.workQueues where name != topology.queue { try? connection.deleteQueue(name) }
        connection.close()
    }

    /// Publishes `bodies` to `queue`, confirmed.
    func publish(_ bodies: [String], to queue: String) throws {
        for body in bodies { try Array(body.utf8).withUnsafeBytes { try connection.publish(routingKey: queue, body: $0) } }
        try connection.waitForConfirms()
    }

    /// The bodies of `queue` in order (taken and acknowledged).
    func drain(_ queue: String) throws -> [String] {
        try scenario.drain(queue).map { String(decoding: $0.body, as: UTF8.self) }
    }

    /// Each shard's ready count.
    func readies() throws -> [Int?] {
        try topology.workQueues.map { try scenario.counts($0)?.ready }
    }
}

@Suite("Shards in wqtop and in the moves back from QUEUE.failed, against a real RabbitMQ", .serialized)
struct ShardMonitorTests {
    @Test("wqtop --once and --json with 3 shards loaded unevenly show each shard, the total, the lagging ones; a consumer counts once")
    func unevenShards() throws {
        let job = try ShardedJob("shard-top", shards: 3)
        let s = job.scenario, q = s.queue
        try job.publish((1...5).map { "a\($0)" }, to: "\(q).0")
        try job.publish((1...10).map { "b\($0)" }, to: "\(q).1")
        try job.publish((1...40).map { "c\($0)" }, to: "\(q).2")

        let once = try s.run("wqtop", ["--once", "--interval", "0.2"])
        #expect(once.status == 0, "\(once.output)")
        #expect(once.stdout.contains(" Ready 55 "), "\(once.stdout)")
        #expect(once.stdout.contains(" Shards ready/consumers  0: 5/0  1: 10/0  2: 40/0  lagging: 2\n"), "\(once.stdout)")

        // A consumer on shard 1 only (one processor started with another shard count) takes its items.
        let consumer = try s.connect()
        defer { consumer.close() }
        _ = try consumer.consume(queue: "\(q).1")
        try waitUntil("shard 1 handed out") { try s.counts("\(q).1")?.ready == 0 }
        let monitor = try s.start("wqtop", ["--json", "--interval", "0.2"])
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        monitor.kill()
        let first = try JSONDecoder().decode(ShardedLine.self, from: Data((monitor.stdout.split(separator: "\n").first ?? "").utf8))
        #expect(first.ready == 45 && first.consumers == 1)
        #expect(first.shards == [
            .init(queue: "\(q).0", ready: 5, consumers: 0, lagging: true),
            .init(queue: "\(q).1", ready: 0, consumers: 1, lagging: false),
            .init(queue: "\(q).2", ready: 40, consumers: 0, lagging: true),
        ])
        #expect(first.shards_warning == nil)
    }

    @Test("wqtop told one shard of a Job loaded with 3 warns, and never says finished when QUEUE itself drains, until QUEUE.0 is gone")
    func wrongShardCount() throws {
        let job = try ShardedJob("shard-wrong", shards: 3)
        let s = job.scenario, q = s.queue
        try job.publish(["x"], to: "\(q).2")
        // The unsharded QUEUE has work that then goes, as if the Job were done.
        _ = try job.connection.declareQueue(q)
        try job.publish(["y"], to: q)
        let run = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.2"], adding: ["WORK_QUEUE_SHARDS": "1"])
        try waitUntil("wqtop's first frame") { run.stdout.contains("\n") }
        #expect(try job.drain(q) == ["y"])
        // wqtop ending (--exit-when-drained) would be the failure: it took the Job for finished.
        try waitUntil("three frames after QUEUE drained, or wqtop's end") {
            !run.isRunning || run.stdout.split(separator: "\n").suffix(3).allSatisfy { $0.contains(#""ready":0,"#) }
        }
        #expect(run.isRunning, "wqtop ended: \(run.collected())")
        let before = run.stdout.split(separator: "\n").count
        // QUEUE.0 deleted: the warning clears at the next sample, and the Job is finished.
        try job.connection.deleteQueue("\(q).0")
        let end = try run.wait(timeout: 10)
        #expect(end.status == 0, "\(end.output)")
        let lines = try end.stdout.split(separator: "\n").map { try JSONDecoder().decode(ShardedLine.self, from: Data($0.utf8)) }
        #expect(lines.prefix(before).last?.state == "drained", "\(end.stdout)")
        #expect(lines.prefix(before).allSatisfy { !$0.finished && $0.shards == nil }, "\(end.stdout)")
        #expect(lines.prefix(before).allSatisfy { $0.shards_warning?.hasPrefix("Shard count? '\(q).0' exists") == true }, "\(end.stdout)")
        #expect(lines.last?.finished == true && lines.last?.shards_warning == nil, "\(end.stdout)")
    }

    @Test("wqtop told 3 shards while QUEUE itself holds work warns and does not finish when the shards drain, until QUEUE is empty")
    func workLeftInTheUnshardedQueue() throws {
        let job = try ShardedJob("shard-wrong-n", shards: 3)
        let s = job.scenario, q = s.queue
        try job.publish(["x"], to: "\(q).0")
        _ = try job.connection.declareQueue(q)
        try job.publish(["y", "z"], to: q)
        let run = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.2"])
        try waitUntil("wqtop's first frame") { run.stdout.contains("\n") }
        #expect(try job.drain("\(q).0") == ["x"])
        try waitUntil("three frames after the shards drained, or wqtop's end") {
            !run.isRunning || run.stdout.split(separator: "\n").suffix(3).allSatisfy { $0.contains(#""ready":0,"#) }
        }
        #expect(run.isRunning, "wqtop ended: \(run.collected())")
        let before = run.stdout.split(separator: "\n").count
        #expect(try job.drain(q) == ["y", "z"])
        let end = try run.wait(timeout: 10)
        #expect(end.status == 0, "\(end.output)")
        let lines = try end.stdout.split(separator: "\n").map { try JSONDecoder().decode(ShardedLine.self, from: Data($0.utf8)) }
        #expect(lines.prefix(before).allSatisfy { !$0.finished }, "\(end.stdout)")
        #expect(lines.prefix(before).allSatisfy { $0.shards_warning?.hasPrefix("Shard count? '\(q)' holds 2 items and 0 consumers") == true }, "\(end.stdout)")
        #expect(lines.last?.finished == true && lines.last?.shards_warning == nil, "\(end.stdout)")
    }

    @Test("loader --from-failed with 3 shards moves every dead letter once, round-robin in order; QUEUE.failed ends empty")
    func fromFailedIntoShards() throws {
        let job = try ShardedJob("shard-from-failed", shards: 3)
        let s = job.scenario
        let items = (1...30).map { "item-\($0)" }
        try job.publish(items, to: s.failedQueue)
        let run = try s.run("loader", ["--from-failed"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("moved 30 items from \(s.failedQueue) back to \(s.queue).0 ... \(s.queue).2"), "\(run.stderr)")
        #expect(try job.readies() == [10, 10, 10])
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        for shard in 0..<3 {
            #expect(try job.drain("\(s.queue).\(shard)") == items.enumerated().filter { $0.offset % 3 == shard }.map(\.element))
        }
    }

    @Test("loader --from-failed killed -9 mid-move into 3 shards loses nothing; run again, every item is in a shard")
    func fromFailedKilledMidMove() throws {
        let job = try ShardedJob("shard-from-failed-kill", shards: 3)
        let s = job.scenario
        let items = (1...10_000).map { "i-\($0)" }
        try job.publish(items, to: s.failedQueue)
        let mover = try s.start("loader", ["--from-failed"])
        try waitUntil("some items moved", every: 0.01) { try job.readies().reduce(0) { $0 + ($1 ?? 0) } >= 500 }
        mover.signal(SIGKILL)
        _ = try mover.wait(timeout: 10)
        // Killed mid-move: what it had not confirmed and acknowledged is back in QUEUE.failed.
        try waitUntil("the unacknowledged back") { try s.counts(s.failedQueue)?.consumers == 0 }
        let left = try #require(try s.counts(s.failedQueue)?.ready)
        #expect(left > 0, "the move ended before the kill: the test proves nothing")
        print("from-failed killed mid-move: \(left) of \(items.count) left in QUEUE.failed")
        let again = try s.run("loader", ["--from-failed"])
        #expect(again.status == 0, "\(again.output)")
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        let moved = try (0..<3).flatMap { try job.drain("\(s.queue).\($0)") }
        #expect(Set(moved) == Set(items), "every item in a shard")
        // Duplicates only of the copies confirmed but not acknowledged when it was killed (at most 250 and a prefetch).
        #expect(moved.count - items.count <= 750, "\(moved.count - items.count) duplicates")
    }

    @Test("wqtop's dead-letter view moves r and R into 3 shards round-robin, each item once")
    func replayIntoShards() throws {
        let job = try ShardedJob("shard-replay", shards: 3)
        let s = job.scenario, q = s.queue
        let items = (1...7).map { "item-\($0)" }
        try job.publish(items, to: s.failedQueue)
        let tmux = s.tmux("shard-replay")
        try tmux.start(tool: "wqtop", ["--interval", "0.3"], environment: s.environment.merging(Tmux.terminal) { $1 })
        try tmux.waitFor("q quit", timeout: 20)
        try tmux.waitFor(" Shards ready/consumers  0: 0/0  1: 0/0  2: 0/0", timeout: 10)
        try tmux.keys("f")
        try tmux.waitFor("7 held", timeout: 20)
        try tmux.keys("Down")
        try tmux.keys("r")
        try tmux.waitFor("moved 1 item back to \(q).0: item-2", timeout: 20)
        try tmux.keys("R")
        try tmux.waitFor("Move all 6 back to \(q).0 ... \(q).2? y/n", timeout: 10)
        try tmux.keys("y")
        try tmux.waitFor("moved 6 items back to \(q).0 ... \(q).2", timeout: 30)
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        // R starts again at shard 0: item-2, then two of the six to each shard.
        #expect(try job.readies() == [3, 2, 2])
        let moved = try (0..<3).flatMap { try job.drain("\(q).\($0)") }
        #expect(moved.sorted() == items.sorted(), "each item once: \(moved)")
    }
}
