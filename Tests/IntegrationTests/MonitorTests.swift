import Foundation
import Core
import Platform
import TestSupport
import Testing
import AMQPClient

/// One `wqtop --json` line, the fields the tests read.
struct MonitorLine: Decodable {
    struct Pod: Decodable {
        var pod: String
        var state: String
        var processed: Int
        var failed: Int
        var rate: Double
        var exit_code: Int32?
    }

    var state: String
    var connected: Bool
    var ready: Int
    var consumers: Int
    var in_flight: Int
    var processed: Int
    var failed: Int
    var rate: Double
    var eta_seconds: Double?
    var finished: Bool
    var bad_events: Int
    var pods: [Pod]

    static func parse(_ output: String) throws -> [MonitorLine] {
        try output.split(separator: "\n").map { try JSONDecoder().decode(MonitorLine.self, from: Data($0.utf8)) }
    }
}

@Suite("wqtop against a real RabbitMQ", .serialized)
struct MonitorTests {
    @Test("wqtop --json follows 3 pods draining 3000 items: counts add up, ready never rises, exit 0 after the last pod")
    func jsonFollowsADrain() throws {
        let s = try Scenario("monitor")
        try s.load(["--count", "3000", "--quiet"])
        let monitor = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.3"])
        // Its first frame shows the whole load, before any processor starts.
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        let processors = try s.startProcessors(3, ["--quiet", "--", "sh", "-c", "sleep 0.001"], pods: "pod-")
        let results = try processors.map { try $0.wait(timeout: 120) }
        for result in results { #expect(result.status == 0, "\(result.output)") }
        let end = try monitor.wait(timeout: 30)
        #expect(end.status == 0, "\(end.output)")
        let lines = try MonitorLine.parse(end.stdout)
        #expect(lines.count >= 3)
        let last = try #require(lines.last)
        #expect(last.finished && last.state == "finished" && last.ready == 0 && last.in_flight == 0)
        #expect(last.pods.map(\.pod).sorted() == ["pod-1", "pod-2", "pod-3"])
        #expect(last.pods.allSatisfy { $0.state == "finished" && $0.exit_code == 0 })
        #expect(last.pods.reduce(0) { $0 + $1.processed } == 3000)
        #expect(last.processed == 3000)
        let readies = lines.map(\.ready)
        #expect(readies.first == 3000)
        #expect(zip(readies, readies.dropFirst()).allSatisfy { $0 >= $1 }, "ready rose: \(readies)")
        #expect(lines.contains { $0.state == "draining" && $0.rate > 0 && $0.eta_seconds != nil })
        #expect(lines.dropLast().allSatisfy { !$0.finished }, "finished only at the end")
        #expect(lines.allSatisfy { $0.bad_events == 0 }, "a real processor's events are never bad")
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("wqtop --json survives hostile progress messages, counts them in bad_events and still shows the good pod")
    func hostileProgressEvents() throws {
        let s = try Scenario("monitor-hostile")
        let queue = s.queue
        let publisher = try s.connect()
        defer { publisher.close() }
        _ = try publisher.declareQueue(queue)
        try publisher.declareFanoutExchange(queue + ".progress")
        let monitor = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.3"])
        // A first frame: wqtop's own queue is bound to the progress exchange by then.
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        let now = WallClock.now()
        let good = ProgressEvent(
            queue: queue, pod: "good-pod", instance: "6f00d", state: .finished, exitCode: 0, processed: 3,
            startedAt: now - 5, sentAt: now, seq: 7)
        let fields = { (change: String) in
            "{\"v\":1,\"queue\":\"\(queue)\",\"pod\":\"evil\",\"instance\":\"e1\",\"state\":\"working\",\"failed\":0,"
                + "\"retried\":0,\"dead_lettered\":0,\"in_hand\":1,\"started_at\":\(now - 5),\"sent_at\":\(now),\"seq\":1,\(change)}"
        }
        let hostile: [[UInt8]] = [
            Array(fields("\"processed\":1,\"rate\":1e300").utf8),
            Array(fields("\"processed\":9223372036854775807,\"rate\":1").utf8),
            Array(fields("\"processed\":-4,\"rate\":1").utf8),
            Array(fields("\"processed\":\"ten\",\"rate\":1").utf8),
            Array(fields("\"processed\":1,\"rate\":\"NaN\"").utf8),
            Array(fields("\"processed\":1,\"rate\":1,\"current\":\"\(String(repeating: "x", count: 1 << 20))\"").utf8),
            [0xFF, 0xFE, 0x00, 0x1B, 0x5B, 0x32, 0x4A, 0xC3, 0x28],
            Array("[1,2,3]".utf8),
            [],
        ]
        for body in hostile { try publisher.publishTransient(exchange: queue + ".progress", body: body) }
        // Another version is another reader's: ignored, not a bad event.
        try publisher.publishTransient(exchange: queue + ".progress", body: Array(#"{"v":2,"pod":"future"}"#.utf8))
        try publisher.publishTransient(exchange: queue + ".progress", body: good.encoded())
        let end = try monitor.wait(timeout: 30)
        #expect(end.status == 0, "\(end.output)")
        #expect(end.stderr.isEmpty, "\(end.stderr)")
        let lines = try MonitorLine.parse(end.stdout)
        let last = try #require(lines.last)
        #expect(last.finished && last.processed == 3 && last.rate < 1000)
        #expect(last.pods.map(\.pod) == ["good-pod"])
        #expect(last.bad_events == hostile.count, "\(end.stdout)")
        #expect(lines.first?.bad_events == 0)
    }

    @Test("wqtop under tmux shows the queue, the pods and the end, and quits on q with the terminal restored")
    func terminalUnderTmux() throws {
        let s = try Scenario("tmux")
        try s.load(["--count", "2000", "--quiet"])
        let tmux = s.tmux("wqtop")
        try tmux.start(tool: "wqtop", ["--interval", "0.3"], environment: s.environment.merging(Tmux.terminal) { $1 }, showingExit: true)
        try tmux.waitFor("waiting for work", orAnyOf: ["draining", "stalled"], timeout: 20)
        let processors = try s.startProcessors(2, ["--quiet", "--", "true"], pods: "tmux-pod-")
        try tmux.waitFor("tmux-pod-2", timeout: 30)
        for p in processors { #expect(try p.wait(timeout: 120).status == 0) }
        let screen = try tmux.waitFor("Job finished: 2,000 processed; 2 of 2 pods exited 0", timeout: 30)
        #expect(screen.contains(" wqtop  \(s.queue) @ 127.0.0.1:\(TestBroker.port)"))
        #expect(screen.contains("tmux-pod-1") && screen.contains("finished (exit 0)"))
        #expect(screen.contains("Processed 2,000"))
        #expect(screen.contains("q quit"))
        try tmux.keys("s")
        try tmux.waitFor("sort: processed", timeout: 5)
        try tmux.resize(width: 80, height: 24)
        let small = try tmux.waitFor("pods 2: 0 working, 2 finished", timeout: 5)
        #expect(small.split(separator: "\n").allSatisfy { $0.count <= 80 })
        try tmux.keys("?")
        try tmux.waitFor("wqtop keys", timeout: 5)
        try tmux.keys("q")
        let after = try tmux.waitFor("WQTOP-EXIT=0", timeout: 10)
        #expect(!after.contains("q quit"), "the monitor's screen is gone after q")
    }

    @Test("wqtop exits (129) when its terminal goes away instead of spinning")
    func terminalHangUp() throws {
        let s = try Scenario("hangup")
        let tmux = s.tmux("wqtop-hup")
        try tmux.start(tool: "wqtop", [], environment: TestBroker.environment(queue: s.queue))
        try tmux.waitFor("queue missing", timeout: 20)
        let pid = try tmux.panePID()
        tmux.kill()
        // Gone, or a zombie waiting for tmux to reap it: either way it stopped running.
        let running = {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true)
        }
        try? waitUntil("wqtop to stop", timeout: 10, every: 0.1) { !running() }
        #expect(!running(), "wqtop \(pid) still runs after its terminal closed")
    }

    @Test("an unknown TERM is one clear line and exit 64, not curses' own exit")
    func unknownTerminal() throws {
        let tmux = Tmux(unique: "wqtop-term")
        defer { tmux.kill() }
        try tmux.start(tool: "wqtop", [], environment: ["TERM": "no-such-terminal", "WORK_QUEUE_PORT": String(TestBroker.port)], showingExit: true)
        let screen = try tmux.waitFor("WQTOP-EXIT=", timeout: 10)
        #expect(screen.contains("WQTOP-EXIT=64"))
        #expect(screen.contains("wqtop: the terminal type TERM='no-such-terminal' is unknown to curses"))
    }

    @Test("wqtop --once on a missing queue says so and does not create it")
    func missingQueue() throws {
        let s = try Scenario("nothing")
        let result = try s.run("wqtop", ["--once", "--interval", "0.2"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("queue missing"))
        #expect(result.stdout.contains("does not exist"))
        #expect(try s.counts() == nil)
    }

    @Test("wqtop --once --json prints one JSON object after one interval and exits 0, in either order of the flags")
    func onceJSON() throws {
        let s = try Scenario("once-json")
        try s.load(["--count", "7", "--quiet"])
        for flags in [["--once", "--json"], ["--json", "--once"]] {
            let result = try s.run("wqtop", flags + ["--interval", "0.2"], timeout: 30)
            #expect(result.status == 0, "\(result.output)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stdout)")
            #expect(lines.first?.hasPrefix("{") == true && lines.first?.contains(#""ready":7,"#) == true, "\(result.stdout)")
        }
    }

    @Test("wqtop --json shows reconnecting while the broker is down and recovers")
    func reconnects() throws {
        let s = try Scenario("monitor-reconnect")
        try s.load(["--count", "10", "--quiet"])
        let monitor = try s.start("wqtop", ["--json", "--interval", "0.3"])
        defer { monitor.signal(SIGTERM) }
        try monitor.waitForOutput("\"connected\":true")
        try BrokerControl.whileStopped { try monitor.waitForOutput("\"connected\":false", timeout: 30) }
        var lines: [MonitorLine] = []
        try? waitUntil("wqtop to show the broker down, then back", timeout: 40, every: 0.5) {
            lines = (try? MonitorLine.parse(monitor.collected().split(separator: "\n").filter { $0.hasPrefix("{") }.joined(separator: "\n"))) ?? []
            guard let down = lines.firstIndex(where: { !$0.connected }) else { return false }
            return lines[down...].contains { $0.connected }
        }
        let down = try #require(lines.firstIndex { !$0.connected }, "no line while the broker was down")
        #expect(lines[down...].contains { $0.connected && $0.ready == 10 }, "did not recover: \(monitor.collected())")
        monitor.signal(SIGTERM)
        #expect(try monitor.wait(timeout: 10).status == 143)
    }

    @Test("wqtop without a terminal, with arguments or an unreachable broker fails with one line and a documented code")
    func errors() throws {
        let env = TestBroker.environment(queue: "wqtop-errors")
        let noTerminal = try Executables.run("wqtop", [], environment: env)
        #expect(noTerminal.status == 64)
        #expect(noTerminal.stderr == "wqtop: wqtop needs a terminal; use --once or --json to print frames instead\n")
        let extra = try Executables.run("wqtop", ["jobs"], environment: env)
        #expect(extra.status == 64 && extra.stderr.split(separator: "\n").count == 1)
        let unreachable = try Executables.run(
            "wqtop", ["--once", "--port", "1", "--connect-timeout", "1"], environment: env.merging(["WORK_QUEUE_PASSWORD": "s3cret-pass"]) { $1 })
        #expect(unreachable.status == 69, "\(unreachable.output)")
        #expect(unreachable.stderr.hasPrefix("wqtop: ") && !unreachable.stderr.contains("s3cret-pass"))
    }

    @Test("a refused progress exchange costs one warning line; the drain still completes")
    func refusedExchange() throws {
        let s = try Scenario("refused-exchange")
        try s.load(["--count", "50", "--quiet"])
        // Names starting with amq. are reserved: the broker refuses to declare them.
        let result = try s.run("processor", ["--quiet", "--progress-exchange", "amq.wq-refused"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("progress events are off on this connection"))
        #expect(result.stderr.contains("processed all work: 50 items"))
    }
}
