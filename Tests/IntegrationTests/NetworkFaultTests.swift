import Foundation
import TestSupport
import Testing

/// Networks that fail without closing anything, and connections cut during the handshake: the
/// clients talk to the broker through a `FaultProxy`.
@Suite("Partitions, resets and silent brokers through a fault proxy", .serialized)
struct NetworkFaultTests {
    func environment(_ queue: String, through proxy: FaultProxy, _ extra: [String: String] = [:]) -> [String: String] {
        TestBroker.environment(queue: queue, extra: extra.merging(["WORK_QUEUE_PORT": String(proxy.port)]) { $1 })
    }

    @Test("a partition, then a reconnect cut during its handshake: processors reconnect and finish, never exit 77")
    func partitionThenResetDuringHandshake() throws {
        let queue = TestBroker.uniqueQueue("partition")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        let env = environment(queue, through: proxy, ["OUT": dir.path])
        #expect(try Executables.run("loader", ["--count", "100", "--quiet"], environment: env).status == 0)
        let args = ["--heartbeat", "1", "--connect-timeout", "2", "--", "sh", "-c", #"sleep 0.05; echo "$1" >> "$OUT/done""#, "sh", "{}"]
        let processors = try (1...2).map { _ in try Executables.start("processor", args, environment: env) }
        try waitUntil("10 items done") { lines(dir.path + "/done").count >= 10 }
        proxy.mode = .blackhole
        // Heartbeats notice the silence; the reconnect that follows gets no answer to its handshake.
        try waitUntil("both processors to lose their connection", timeout: 15) {
            processors.allSatisfy { $0.collected().contains("connection lost") }
        }
        try waitUntil("both processors' reconnects to wait for a handshake") { proxy.heldConnections >= 2 }
        proxy.resetAll()
        try waitUntil("another reconnect to wait for a handshake") { proxy.heldConnections >= 1 }
        proxy.resetAll()
        proxy.mode = .forward
        for r in try finish(processors, timeout: 90) {
            #expect(r.result.status == 0, "\(r.result.output)")
            #expect(!r.result.stderr.contains("password"), "\(r.result.stderr)")
        }
        #expect(Set(lines(dir.path + "/done")).isSuperset(of: Set((0..<100).map(String.init))))
    }

    @Test("the loader behind a 15 s partition finishes with an exact count and no gap")
    func loaderThroughPartition() throws {
        let queue = TestBroker.uniqueQueue("load-partition")
        defer { TestBroker.cleanUp(queue) }
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        let total = 200_000
        let load = try Executables.start("loader", ["--count", String(total), "--heartbeat", "2"], environment: environment(queue, through: proxy))
        try waitUntil("over 20000 items ready") { (try TestBroker.counts(queue)?.ready ?? 0) > 20_000 }
        proxy.mode = .blackhole
        // The scenario: a partition of 15 s.
        usleep(15_000_000)
        proxy.mode = .forward
        let result = try load.wait(timeout: 180)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("loaded \(total) items in"), "\(result.stderr)")
        let bodies = try TestBroker.drain(queue).map { String(decoding: $0.body, as: UTF8.self) }
        #expect(Set(bodies) == Set((0..<total).map(String.init)), "\(bodies.count) items, some missing")
    }

    @Test("a broker that accepts TCP but never answers is reported within --connect-timeout as unreachable (69), not refused (77)")
    func silentBrokerAtStart() throws {
        let queue = TestBroker.uniqueQueue("silent")
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        proxy.mode = .blackhole
        let started = Date()
        for tool in ["loader", "processor"] {
            let r = try Executables.run(tool, ["--connect-timeout", "2"], environment: environment(queue, through: proxy), timeout: 30)
            #expect(r.status == 69, "\(tool): \(r.output)")
            let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("\(tool): ") && last.contains("127.0.0.1:\(proxy.port)"), "\(tool): \(r.stderr)")
        }
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("wqtop --json through a partition shows the reconnect and recovers")
    func monitorThroughPartition() throws {
        let queue = TestBroker.uniqueQueue("monitor-partition")
        defer { TestBroker.cleanUp(queue) }
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        let env = environment(queue, through: proxy)
        #expect(try Executables.run("loader", ["a", "b"], environment: env).status == 0)
        let monitor = try Executables.start("wqtop", ["--json", "--interval", "0.3", "--heartbeat", "1"], environment: env)
        try monitor.waitForOutput("\"connected\":true")
        proxy.mode = .blackhole
        try monitor.waitForOutput("\"connected\":false", timeout: 15)
        proxy.mode = .forward
        let before = monitor.collected().count
        try waitUntil("wqtop to connect again", timeout: 30) { monitor.collected().dropFirst(before).contains("\"connected\":true") }
        monitor.signal(SIGTERM)
        _ = try? monitor.wait(timeout: 10)
    }

    @Test("several --url addresses: a dead one is skipped, a reconnect moves to the next, errors name each address and no password")
    func severalAddresses() throws {
        let queue = TestBroker.uniqueQueue("addresses")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let first = try FaultProxy(target: TestBroker.port)
        let second = try FaultProxy(target: TestBroker.port)
        defer { first.stop(); second.stop() }
        let urls = ["127.0.0.1:1", "127.0.0.1:\(first.port)", "127.0.0.1:\(second.port)"].map { "amqp://guest:guest@\($0)/" }
        var env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_URL": urls.joined(separator: ",")])
        env["WORK_QUEUE_HOST"] = nil
        env["WORK_QUEUE_PORT"] = nil
        // Clients start at a random address unless an Indexed Job's index says which: pod 0
        // starts at the dead one, so it must be skipped.
        env["JOB_COMPLETION_INDEX"] = "0"
        #expect(try Executables.run("loader", ["--count", "60", "--quiet"], environment: env).status == 0)
        let p = try Executables.start(
            "processor", ["--heartbeat", "1", "--", "sh", "-c", #"sleep 0.05; echo "$1" >> "$OUT/done""#, "sh", "{}"], environment: env)
        try waitUntil("10 items done") { lines(dir.path + "/done").count >= 10 }
        first.mode = .blackhole
        first.resetAll()
        let r = try p.wait(timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("connected to work queue at 127.0.0.1:\(first.port) (address 2 of 3)"), "\(r.stderr)")
        #expect(r.stderr.contains("reconnected to work queue 127.0.0.1:\(second.port)"), "\(r.stderr)")
        #expect(Set(lines(dir.path + "/done")).isSuperset(of: Set((0..<60).map(String.init))))

        let dead = try Executables.run(
            "loader", ["--url", "amqp://guest:s3cret@127.0.0.1:1/", "--url", "amqp://guest:s3cret@127.0.0.1:2/", "--connect-timeout", "1"],
            environment: ["WORK_QUEUE_NAME": queue], timeout: 20)
        #expect(dead.status == 69, "\(dead.output)")
        let error = dead.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(error.hasPrefix("loader: ") && error.contains("127.0.0.1:1") && error.contains("127.0.0.1:2"), "\(dead.stderr)")
        #expect(!dead.output.contains("s3cret"))
    }
}
