import Foundation

/// The 3-node RabbitMQ cluster the cluster tests use: started by `scripts/test` (scripts/cluster)
/// on `WQ_CLUSTER_PORTS` (5701,5702,5703), its nodes named after `WQ_CLUSTER_NAME` (wq-c: wq-c1..3).
/// A test that cannot reach it fails loudly.
package enum TestCluster {
    /// The node-name prefix scripts/cluster knows the cluster by (`CLUSTER_NAME`).
    package static var name: String { ProcessInfo.processInfo.environment["WQ_CLUSTER_NAME"] ?? "wq-c" }

    package static var ports: [Int] {
        let text = ProcessInfo.processInfo.environment["WQ_CLUSTER_PORTS"] ?? "5701,5702,5703"
        return text.split(separator: ",").compactMap { Int($0) }
    }

    /// The environment that points scripts/broker at node `n` (1-3), e.g. for `ctl`.
    package static func brokerEnvironment(node n: Int) -> [String: String] {
        let folder = name == "wq-c" ? "cluster" : name
        return [
            "BROKER_NAME": "\(name)\(n)", "BROKER_PORT": String(ports[n - 1]),
            "BROKER_DIR": Executables.packageRoot.appendingPathComponent(".broker/\(folder)/\(name)\(n)").path,
        ]
    }

    /// `WORK_QUEUE_URL` naming every node, so clients try them in turn.
    package static var url: String { ports.map { "amqp://guest:guest@127.0.0.1:\($0)/" }.joined(separator: ",") }

    /// The environment for `queue` (a quorum queue) on the cluster, every node given. Clients
    /// start at node 1 (`JOB_COMPLETION_INDEX` 0), the node the fault tests kill, not at one
    /// picked at random; a test that spreads them sets its own index.
    package static func environment(queue: String, extra: [String: String] = [:]) -> [String: String] {
        var env = ["WORK_QUEUE_URL": url, "WORK_QUEUE_NAME": queue, "WORK_QUEUE_TYPE": "quorum", "JOB_COMPLETION_INDEX": "0"]
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs `scripts/cluster` with `arguments`; fails when it does.
    package static func control(_ arguments: [String]) throws {
        let script = Executables.packageRoot.appendingPathComponent("scripts/cluster").path
        let env = ["CLUSTER_NAME": name, "CLUSTER_PORT": String((ports.first ?? 5701) - 1)]
        let result = try Command(script, arguments, adding: env, timeout: 180).run()
        guard result.status == 0 else {
            throw TestFailure("scripts/cluster \(arguments.joined(separator: " ")) failed (exit \(result.status)): \(result.stderr)")
        }
    }

    /// Makes sure all three nodes run as one cluster (restarting killed ones), or fails loudly.
    package static func ensureRunning() throws {
        do {
            try control(["start"])
        } catch {
            throw TestFailure("the test cluster (scripts/cluster) cannot be started: \(error); see .broker/\(name == "wq-c" ? "cluster" : name)/*/log")
        }
    }

    /// kill -9 of node `n` (1-3).
    package static func kill(node n: Int) throws { try control(["kill", String(n)]) }

    /// kill -9 of node `n` and its data deleted: a node that never returns (`ensureRunning`
    /// has the others forget it and a fresh node join in its place).
    package static func lose(node n: Int) throws { try control(["lose", String(n)]) }
}
