import Foundation
import TestSupport
import Testing

/// A real 3-node RabbitMQ cluster (scripts/cluster) with quorum queues: the node the clients use
/// is killed -9 while they work; they were given every node's address.
@Suite("A 3-node cluster losing the node the clients use", .serialized)
struct ClusterTests {
    @Test("kill -9 of the loader's node mid-load: the count is exact and no item is lost")
    func nodeKilledMidLoad() throws {
        try TestCluster.ensureRunning()
        let s = try Scenario("cluster-load", on: .cluster)
        defer { try? TestCluster.ensureRunning() }
        let total = 50_000
        let load = try s.start("loader", ["--count", String(total), "--heartbeat", "2"])
        try waitUntil("over 5000 items ready", timeout: 60) { (try s.counts()?.ready ?? 0) > 5_000 }
        try TestCluster.kill(node: 1)
        let result = try load.wait(timeout: 180)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("reconnect"), "the kill came too late to test anything: \(result.stderr)")
        #expect(result.stderr.contains("loaded \(total) items in"), "\(result.stderr)")
        let bodies = try s.drainedBodies()
        #expect(Set(bodies) == Set((0..<total).map(String.init)), "\(bodies.count) items, some missing")
    }

    @Test("kill -9 of the processors' node mid-drain: every item done, every processor exits 0, wqtop shows the reconnect")
    func nodeKilledMidDrain() throws {
        try TestCluster.ensureRunning()
        let s = try Scenario("cluster-drain", on: .cluster)
        defer { try? TestCluster.ensureRunning() }
        try s.load(["--count", "1500", "--quiet"])
        let monitor = try s.start("wqtop", ["--json", "--interval", "0.3", "--heartbeat", "2"])
        let args = ["--quiet", "--heartbeat", "2"] + Scenario.shell("sleep 0.01; " + Scenario.appendDone)
        let processors = try s.startProcessors(3, args, pods: "pod-")
        try s.waitForDone(200, timeout: 60)
        try TestCluster.kill(node: 1)
        // The processors go on with the other nodes. A quorum queue keeps the dead node's
        // consumers (suspected down) in its consumer count until the node is back (without it the
        // barrier would take them as lost after 20 s: nodeLostForGood): restart it as its
        // StatefulSet would.
        try s.waitForDone(1000, timeout: 60)
        try TestCluster.ensureRunning()
        for r in try finish(processors, timeout: 180) {
            #expect(r.result.status == 0, "\(r.result.output)")
            #expect(r.result.stderr.contains("reconnected"), "\(r.result.stderr)")
        }
        #expect(Set(s.done).isSuperset(of: Set((0..<1500).map(String.init))))
        #expect(try s.counts()?.ready == 0)
        try waitUntil("wqtop to show it connected", timeout: 30) {
            monitor.collected().split(separator: "\n").last?.contains("\"connected\":true") == true
        }
        monitor.signal(SIGTERM)
        let frames = try monitor.wait(timeout: 10).stdout.split(separator: "\n")
        let down = frames.firstIndex { $0.contains("\"connected\":false") }
        #expect(down != nil, "wqtop never showed the lost connection")
        if let down { #expect(frames[down...].contains { $0.contains("\"connected\":true") }, "wqtop did not reconnect") }
    }

    @Test("node 1 (the queues' leaders) lost for good while one processor holds an item there and peers wait: every item done, nobody exits while a live peer holds its 40 s item, every processor exits 0 within 90 s of the drain")
    func nodeLostForGood() throws {
        try TestCluster.ensureRunning()
        // Every client starts at the first address of its list (TestCluster.environment): the
        // loader's is node 1, so the queues' leaders are there.
        let s = try Scenario("cluster-lost", on: .cluster)
        // The lost node is forgotten and a fresh one joins, for the tests after this one.
        defer { try? TestCluster.ensureRunning() }
        let total = 300
        try s.load(["--quiet", "long", "stuck"])
        try s.load(["--count", String(total), "--quiet"])
        // "long" runs 40 s on a node that stays; "stuck" runs 15 s on node 1's processor (its
        // node is lost meanwhile: the item goes back and a peer does it in a moment; the
        // processor reconnects to another node and its command's end is not acknowledged).
        let work = #"""
            case "$1:$POD_NAME" in
              long:*) touch "$OUT/long-started"; sleep 40 ;;
              stuck:on-node-1) touch "$OUT/stuck-started"; sleep 15 ;;
              *) sleep 0.05 ;;
            esac
            echo "$1" >> "$OUT/done"
            """#
        let args = ["--quiet", "--heartbeat", "2"] + Scenario.shell(work)
        func start(_ pod: String, firstNode: Int) throws -> RunningCommand {
            let ports = TestCluster.ports
            let url = (0..<3).map { "amqp://guest:guest@127.0.0.1:\(ports[(firstNode - 1 + $0) % 3])/" }.joined(separator: ",")
            return try s.start("processor", args, adding: ["POD_NAME": pod, "WORK_QUEUE_URL": url])
        }
        let holder = try start("holder", firstNode: 2)
        try s.waitForFile("long-started", timeout: 30)
        let onLostNode = try start("on-node-1", firstNode: 1)
        try s.waitForFile("stuck-started", timeout: 30)  // on node 1
        let peers = try [start("peer-2", firstNode: 2), start("peer-3", firstNode: 3)]
        // The peers wait, sampling the queues, when node 1 goes: its processor's consumer stays
        // counted, and the leaders' election makes passive declares answer 0 ready, 0 consumers.
        try s.waitForDone(total, timeout: 60)  // the short items
        try TestCluster.lose(node: 1)
        let processors = [holder, onLostNode] + peers
        try waitUntil("the long item done", timeout: 60) { s.done.contains("long") }
        let drainedAt = Date()
        for p in processors { #expect(p.isRunning, "a processor exited while a live peer held the long item: \(p.tail())") }
        let ended = try finish(processors, timeout: 90)
        for (i, r) in ended.enumerated() {
            #expect(r.result.status == 0, "\(r.result.output)")
            let after = r.endedAt.timeIntervalSince(drainedAt)
            #expect(after < 90, "processor \(i) exited \(after) s after the drain")
            print("processor \(i) exited \(String(format: "%.1f", after)) s after the drain")
        }
        #expect(ended.contains { $0.result.stderr.contains("taken as lost with a cluster node") }, "\(ended.map(\.result.stderr))")
        #expect(ended[1].result.stderr.contains("reconnected"), "the processor on node 1 never lost its node: \(ended[1].result.stderr)")
        #expect(Set(s.done).isSuperset(of: Set((0..<total).map(String.init) + ["long", "stuck"])))
        #expect(try s.counts()?.ready == 0)
        #expect(try s.counts(s.failedQueue)?.ready == 0)
    }

    /// The node each queue lives on (every queue when `queues` is nil), by the broker's word
    /// (asked through node 2): a quorum queue's leader, a classic queue's process.
    func nodes(of queues: [String]? = nil) throws -> [String: String] {
        let result = try Command(
            Executables.packageRoot.appendingPathComponent("scripts/broker").path, ["ctl", "list_queues", "-q", "name", "leader", "pid"],
            adding: TestCluster.brokerEnvironment(node: 2)
        ).run()
        guard result.status == 0 else { throw TestFailure("rabbitmqctl list_queues failed: \(result.output)") }
        var nodes: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3, queues?.contains(fields[0]) ?? true else { continue }
            // A classic queue has no leader: its pid, <NODE.x.y.z>, names its node.
            nodes[fields[0]] = fields[1].isEmpty ? String(fields[2].dropFirst().prefix { $0 != "." }) : fields[1]
        }
        return nodes
    }

    /// Whether `shards` (in the order declared) went where a balanced locator puts them, given
    /// the queues each node led before (`before`: queue → node): each to a node with the fewest
    /// at its turn. On an empty or even cluster that is one shard per node.
    func placedBalanced(_ shards: [String], _ placed: [String: String], before: [String: String]) -> Bool {
        let nodes = (1...3).map { "\(TestCluster.name)\($0)@localhost" }
        var counts = Dictionary(uniqueKeysWithValues: nodes.map { node in (node, before.values.filter { $0 == node }.count) })
        for shard in shards {
            guard let node = placed[shard], let count = counts[node], count == counts.values.min() else { return false }
            counts[node] = count + 1
        }
        return true
    }

    @Test("3 shards declared through node 1 get their leaders on 3 nodes (quorum and classic); node 1 lost for good mid-drain: every item done, every processor exits 0")
    func shardsSpreadAndSurviveALostNode() throws {
        try TestCluster.ensureRunning()
        // Every client starts at node 1 (TestCluster.environment): without the leader locator
        // all three shards would be led from there.
        let s = try Scenario("cluster-shards", on: .cluster, shards: 3)
        defer { try? TestCluster.ensureRunning() }
        do {
            // Classic shards (deleted again before node 1 goes).
            let classic = try Scenario("cluster-shards-classic", on: .cluster, shards: 3, environment: ["WORK_QUEUE_TYPE": "classic"])
            let before = try nodes()
            let declared = try classic.run("loader", ["--declare-only"])
            #expect(declared.status == 0, "\(declared.output)")
            let homes = try nodes(of: classic.workQueues)
            #expect(homes.count == 3 && placedBalanced(classic.workQueues, homes, before: before), "classic shards' nodes: \(homes); before: \(before)")
            if before.isEmpty { #expect(Set(homes.values).count == 3) }
        }
        let before = try nodes()
        let total = 600
        try s.load(["--count", String(total), "--quiet"])
        let leaders = try nodes(of: s.workQueues)
        #expect(leaders.count == 3 && placedBalanced(s.workQueues, leaders, before: before), "quorum shards' leaders: \(leaders); before: \(before)")
        if before.isEmpty { #expect(Set(leaders.values).count == 3) }
        // Processors on nodes 2 and 3; node 1 leads one shard and goes for good mid-drain: that
        // shard elects a leader on a survivor, its consumers stay, the drain goes on.
        let args = ["--quiet", "--heartbeat", "2", "--prefetch", "3"] + Scenario.shell("sleep 0.02; " + Scenario.appendDone)
        let processors = try (0..<4).map { i in
            try s.start("processor", args, adding: ["POD_NAME": "shard-pod-\(i)", "JOB_COMPLETION_INDEX": String(1 + i % 2)])
        }
        try s.waitForDone(150, timeout: 60)
        try TestCluster.lose(node: 1)
        for r in try finish(processors, timeout: 120) { #expect(r.result.status == 0, "\(r.result.output)") }
        #expect(Set(s.done).isSuperset(of: Set((0..<total).map(String.init))))
        for queue in s.workQueues { #expect(try s.counts(queue)?.ready == 0, "\(queue)") }
    }
}
