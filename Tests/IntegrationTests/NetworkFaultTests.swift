import Foundation
import TestSupport
import Testing

/// Networks that fail without closing anything, and connections cut during the handshake: the
/// clients talk to the broker through a `FaultProxy`.
@Suite("Partitions, resets and silent brokers through a fault proxy", .serialized)
struct NetworkFaultTests {
    /// A scenario whose tools reach the broker through `proxy`.
    func scenario(_ label: String, through proxy: FaultProxy) throws -> Scenario {
        try Scenario(label, environment: ["WORK_QUEUE_PORT": String(proxy.port)])
    }

    @Test("a partition, then a reconnect cut during its handshake: processors reconnect and finish, never exit 77")
    func partitionThenResetDuringHandshake() throws {
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        let s = try scenario("partition", through: proxy)
        try s.load(["--count", "100", "--quiet"])
        let processors = try s.startProcessors(2, ["--heartbeat", "1", "--connect-timeout", "2"] + Scenario.shell("sleep 0.05; " + Scenario.appendDone))
        try s.waitForDone(10)
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
        #expect(Set(s.done).isSuperset(of: Set((0..<100).map(String.init))))
    }

    @Test("the loader behind a 15 s partition finishes with an exact count and no gap")
    func loaderThroughPartition() throws {
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        let s = try scenario("load-partition", through: proxy)
        let total = 200_000
        let load = try s.start("loader", ["--count", String(total), "--heartbeat", "2"])
        try waitUntil("over 20000 items ready") { (try s.counts()?.ready ?? 0) > 20_000 }
        proxy.mode = .blackhole
        // The scenario: a partition of 15 s.
        usleep(15_000_000)
        proxy.mode = .forward
        let result = try load.wait(timeout: 180)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("loaded \(total) items in"), "\(result.stderr)")
        let bodies = try s.drainedBodies()
        #expect(Set(bodies) == Set((0..<total).map(String.init)), "\(bodies.count) items, some missing")
    }

    @Test("a broker that accepts TCP but never answers is reported within --connect-timeout as unreachable (69), not refused (77)")
    func silentBrokerAtStart() throws {
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        let s = try scenario("silent", through: proxy)
        proxy.mode = .blackhole
        let started = Date()
        for tool in ["loader", "processor"] {
            let r = try s.run(tool, ["--connect-timeout", "2"], timeout: 30)
            #expect(r.status == 69, "\(tool): \(r.output)")
            let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("\(tool): ") && last.contains("127.0.0.1:\(proxy.port)"), "\(tool): \(r.stderr)")
        }
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("wqtop --json through a partition shows the reconnect and recovers")
    func monitorThroughPartition() throws {
        let proxy = try FaultProxy(target: TestBroker.port)
        defer { proxy.stop() }
        let s = try scenario("monitor-partition", through: proxy)
        try s.load(["a", "b"])
        let monitor = try s.start("wqtop", ["--json", "--interval", "0.3", "--heartbeat", "1"])
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
        let first = try FaultProxy(target: TestBroker.port)
        let second = try FaultProxy(target: TestBroker.port)
        defer { first.stop(); second.stop() }
        let s = try Scenario("addresses")
        let urls = ["127.0.0.1:1", "127.0.0.1:\(first.port)", "127.0.0.1:\(second.port)"].map { "amqp://guest:guest@\($0)/" }
        s.environment["WORK_QUEUE_URL"] = urls.joined(separator: ",")
        s.environment["WORK_QUEUE_HOST"] = nil
        s.environment["WORK_QUEUE_PORT"] = nil
        // Clients start at a random address unless an Indexed Job's index says which: pod 0
        // starts at the dead one, so it must be skipped.
        s.environment["JOB_COMPLETION_INDEX"] = "0"
        try s.load(["--count", "60", "--quiet"])
        let p = try s.start("processor", ["--heartbeat", "1"] + Scenario.shell("sleep 0.05; " + Scenario.appendDone))
        try s.waitForDone(10)
        first.mode = .blackhole
        first.resetAll()
        let r = try p.wait(timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("connected to work queue at 127.0.0.1:\(first.port) (address 2 of 3)"), "\(r.stderr)")
        #expect(r.stderr.contains("reconnected to work queue 127.0.0.1:\(second.port)"), "\(r.stderr)")
        #expect(Set(s.done).isSuperset(of: Set((0..<60).map(String.init))))

        let dead = try Executables.run(
            "loader", ["--url", "amqp://guest:s3cret@127.0.0.1:1/", "--url", "amqp://guest:s3cret@127.0.0.1:2/", "--connect-timeout", "1"],
            environment: ["WORK_QUEUE_NAME": s.queue], timeout: 20)
        #expect(dead.status == 69, "\(dead.output)")
        let error = dead.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(error.hasPrefix("loader: ") && error.contains("127.0.0.1:1") && error.contains("127.0.0.1:2"), "\(dead.stderr)")
        #expect(!dead.output.contains("s3cret"))
    }
}
