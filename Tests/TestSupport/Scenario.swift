import Foundation
import Core
import AMQPClient

/// One integration test's world, set up in one line: a queue of its own (on the test broker or
/// the test cluster), the environment the tools get for it, a folder the commands write to
/// (`$OUT`), the tools it started, and waits for what the test needs (lines in `$OUT/done`, a
/// file, a queue's depth). When it goes, passed or failed, the processes it started are killed,
/// its queues and progress exchange deleted and its folder removed: keep it in a `let` for the
/// whole test.
package final class Scenario {
    /// Where the queue lives.
    package enum Broker: Sendable {
        /// The test broker (`TestBroker`).
        case single
        /// The 3-node test cluster (`TestCluster`): every node's address, a quorum queue.
        case cluster
    }

    /// The work queue, named after the test's label and unique.
    package let queue: String
    /// The folder the commands write to, `$OUT` in `environment`.
    package let dir: TempDir
    /// What every tool the scenario runs gets, on top of a clean base (`Executables`).
    package var environment: [String: String]
    /// Where the test's checks look at the queues: the test broker, or a cluster node that the
    /// fault tests leave up (node 2).
    package let port: Int
    /// Everything `start` started, killed at the end if still running.
    private var started: [RunningCommand] = []
    /// The tmux sessions `tmux` made, killed at the end.
    private var sessions: [Tmux] = []

    /// The Job's shard count (`WORK_QUEUE_SHARDS`): its work queues are `QUEUE.0` ... `QUEUE.N-1`
    /// with more than one.
    package let shards: Int

    /// `type` sets `WORK_QUEUE_TYPE` (the broker's default when nil; quorum on the cluster);
    /// `shards` sets `WORK_QUEUE_SHARDS` for every tool; `extra` is added to the environment.
    package init(
        _ label: String, type: QueueType? = nil, on broker: Broker = .single, shards: Int = 1, environment extra: [String: String] = [:]
    ) throws {
        queue = TestBroker.uniqueQueue(label)
        dir = try TempDir()
        self.shards = shards
        var variables = ["OUT": dir.path]
        if let type { variables["WORK_QUEUE_TYPE"] = type.rawValue }
        if shards > 1 { variables["WORK_QUEUE_SHARDS"] = String(shards) }
        variables.merge(extra) { $1 }
        switch broker {
        case .single:
            environment = TestBroker.environment(queue: queue, extra: variables)
            port = TestBroker.port
        case .cluster:
            environment = TestCluster.environment(queue: queue, extra: variables)
            port = TestCluster.ports[1]
        }
    }

    deinit {
        // First the processes: a processor still reconnecting would declare the queues again.
        for session in sessions { session.kill() }
        for command in started { command.kill() }
        TestBroker.cleanUp(queue, port: port, shards: shards)
    }

    /// The work queues: `[queue]`, or its shards.
    package var workQueues: [String] { Topology(queue: queue, queueType: .classic, shards: shards).workQueues }

    /// `QUEUE.failed`, the dead-letter queue.
    package var failedQueue: String { queue + ".failed" }

    // MARK: Commands and their files

    /// `-- sh -c SCRIPT sh {}`: the processor runs `script` for each item, the item as `$1`.
    package static func shell(_ script: String) -> [String] { ["--", "sh", "-c", script, "sh", "{}"] }

    /// A line of shell that records the item (`$1`) in `$OUT/done`.
    package static let appendDone = #"echo "$1" >> "$OUT/done""#

    /// `$OUT/name`.
    package func path(_ name: String) -> String { dir.path + "/" + name }

    /// The lines of `$OUT/name` so far; none while it does not exist.
    package func lines(_ name: String) -> [String] { TestSupport.lines(path(name)) }

    /// The lines of `$OUT/done`: the items `appendDone` recorded.
    package var done: [String] { lines("done") }

    // MARK: The tools

    /// Runs `tool` (loader, processor, wqtop) to its end with the scenario's environment and `extra`.
    package func run(
        _ tool: String, _ arguments: [String] = [], adding extra: [String: String] = [:], stdin: Data? = nil,
        timeout: Double = Command.defaultTimeout
    ) throws -> CommandResult {
        try Executables.run(tool, arguments, environment: environment.merging(extra) { $1 }, stdin: stdin, timeout: timeout)
    }

    /// Starts `tool` in the background with the scenario's environment and `extra`; the scenario
    /// kills it at the end if it still runs.
    package func start(
        _ tool: String, _ arguments: [String] = [], adding extra: [String: String] = [:], timeout: Double = Command.defaultTimeout
    ) throws -> RunningCommand {
        let command = try Executables.start(tool, arguments, environment: environment.merging(extra) { $1 }, timeout: timeout)
        started.append(command)
        return command
    }

    /// Kills `command` (started some other way) at the end with the scenario's own.
    package func adopt(_ command: RunningCommand) { started.append(command) }

    /// Runs the loader with `arguments` (items, or flags such as `--count`); throws with its
    /// output when it does not exit 0.
    package func load(_ arguments: [String]) throws {
        let result = try run("loader", arguments)
        guard result.status == 0 else {
            throw TestFailure("loader \(arguments.prefix(6).joined(separator: " ")) exited \(result.status)\n\(result.output)")
        }
    }

    /// Starts `count` processors with `arguments`; with `pods`, processor i is `POD_NAME` `pods` + i (from 1).
    package func startProcessors(
        _ count: Int, _ arguments: [String] = [], pods: String? = nil, timeout: Double = Command.defaultTimeout
    ) throws -> [RunningCommand] {
        try (1...count).map { i in
            try start("processor", arguments, adding: pods.map { ["POD_NAME": "\($0)\(i)"] } ?? [:], timeout: timeout)
        }
    }

    /// A tmux session named after `label`, killed at the end.
    package func tmux(_ label: String) -> Tmux {
        let session = Tmux(unique: label)
        sessions.append(session)
        return session
    }

    // MARK: The broker

    /// A connection to the scenario's broker (`port`).
    package func connect(type: QueueType = .classic) throws -> AMQPConnection {
        try TestBroker.connect(queue: queue, type: type, port: port)
    }

    /// Ready and consumer counts of `name` (the work queue by default); nil when it does not exist.
    package func counts(_ name: String? = nil) throws -> QueueCounts? { try TestBroker.counts(name ?? queue, port: port) }

    /// Takes every message of `name` (the work queue by default), acknowledged.
    package func drain(_ name: String? = nil) throws -> [Delivery] { try TestBroker.drain(name ?? queue, port: port) }

    /// Takes every message of `name` and returns the bodies as text.
    package func drainedBodies(_ name: String? = nil) throws -> [String] {
        try drain(name).map { String(decoding: $0.body, as: UTF8.self) }
    }

    // MARK: Waits

    /// Waits until `$OUT/done` holds at least `count` lines.
    package func waitForDone(_ count: Int, timeout: Double = 20) throws {
        try wait(for: "\(count) items done", timeout: timeout, seen: { "\(self.done.count) done" }) { done.count >= count }
    }

    /// Waits until `$OUT/name` exists.
    package func waitForFile(_ name: String, timeout: Double = 20) throws {
        let listing = { "$OUT holds: " + ((try? FileManager.default.contentsOfDirectory(atPath: self.dir.path).sorted()) ?? []).joined(separator: ", ") }
        try wait(for: "$OUT/\(name) to exist", timeout: timeout, seen: listing) {
            FileManager.default.fileExists(atPath: path(name))
        }
    }

    /// Waits until `name` (the work queue by default) has exactly `ready` messages ready.
    package func waitForReady(_ ready: Int, in name: String? = nil, timeout: Double = 20) throws {
        var last: QueueCounts?
        try wait(for: "\(ready) ready in \(name ?? queue)", timeout: timeout, seen: { "\(last.map { "\($0.ready) ready" } ?? "no queue")" }) {
            last = try counts(name)
            return last?.ready == ready
        }
    }

    /// `waitUntil`, whose failure also says what was seen at the end.
    private func wait(for what: String, timeout: Double, seen: () -> String, _ condition: () throws -> Bool) throws {
        do {
            try waitUntil(what, timeout: timeout, condition)
        } catch let failure as TestFailure {
            throw TestFailure("\(failure.description) (\(seen()))")
        }
    }
}
