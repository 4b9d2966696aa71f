import Foundation
import Core
import AMQPClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `wqtop --serve` on a free port of 127.0.0.1 for the scenario's queue; returns it and its port
/// (read from the line it prints once it listens).
private func serve(_ s: Scenario, _ extra: [String] = []) throws -> (RunningCommand, Int) {
    let wqtop = try s.start("wqtop", ["--serve", "127.0.0.1:0", "--interval", "0.5"] + extra, timeout: 300)
    var port: Int?
    try waitUntil("wqtop --serve to listen (\(wqtop.tail(lines: 5)))", timeout: 20) {
        guard let range = wqtop.stderr.range(of: "serving metrics on http://127.0.0.1:") else { return false }
        port = Int(wqtop.stderr[range.upperBound...].prefix { $0.isNumber })
        return port != nil
    }
    return (wqtop, port!)
}

/// The page's samples (comments left out) as name{labels} -> value.
private func samples(port: Int) throws -> [String: Double] {
    let page = try HTTP.get(port: port, path: "/metrics")
    guard page.status == 200 else { throw TestFailure("/metrics answered \(page.status): \(page.body)") }
    var out: [String: Double] = [:]
    for line in page.body.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " ") else { continue }
        out[String(line[..<space])] = Double(line[line.index(after: space)...])
    }
    return out
}

/// `promtool check metrics` on the page in `path` (it reads standard input).
private func promtoolCheckMetrics(_ path: String) throws -> CommandResult {
    _ = try Tools.runSystem("promtool", ["--version"], install: "scripts/install-deps installs it (Debian package prometheus)")
    return try Tools.runSystem("sh", ["-c", "promtool check metrics < '\(path)'"], install: "sh is part of the base system")
}

@Suite("wqtop --serve against a real RabbitMQ, scraped by a real Prometheus", .serialized)
struct MetricsTests {
    @Test("a drain with failures and a pod killed -9 and restarted under its name, scraped every second: Prometheus sees processed + dead-lettered - repeated = loaded, the duration quantile in range, no counter reset, up = 1; promtool accepts the page")
    func scrapedByPrometheus() throws {
        let s = try Scenario("metrics")
        let (wqtop, port) = try serve(s)
        let prometheus = try PrometheusServer(scenario: s, job: "wqtop", targets: ["127.0.0.1:\(port)"])
        defer { prometheus.stop() }
        try s.load(["--quiet"] + (0..<300).map { $0 % 10 == 0 ? "bad-\($0)" : "good-\($0)" })
        let work = #"case "$WORK_ITEM" in bad*) exit 3;; esac; sleep 0.05; echo "$WORK_ITEM" >> "$OUT/done""#
        let args = ["--quiet", "--max-attempts", "2", "--prefetch", "5", "--", "sh", "-c", work]
        var running = try s.startProcessors(3, args, pods: "pod-", timeout: 240)
        try s.waitForDone(60, timeout: 60)
        // Seen by a scrape before the kill, so a reset would show.
        try waitUntil("Prometheus to have pod-1's count", timeout: 20) {
            (try prometheus.value(#"workqueue_pod_items_processed_total{pod="pod-1"}"#) ?? 0) > 0
        }
        running[0].signal(SIGKILL)
        _ = try running[0].wait(timeout: 10)
        running[0] = try s.start("processor", args, adding: ["POD_NAME": "pod-1"], timeout: 240)
        for (index, result) in try finish(running, timeout: 180).enumerated() {
            #expect(result.result.status == 0, "pod-\(index + 1): \(result.result.output)")
        }
        try waitUntil("Prometheus to scrape the finished Job", timeout: 30) {
            try prometheus.value("workqueue_job_finished") == 1
        }
        let processed = try #require(try prometheus.value("workqueue_items_processed_total"))
        let deadLettered = try #require(try prometheus.value("workqueue_items_dead_lettered_total"))
        let repeated = try #require(try prometheus.value("workqueue_items_repeated_total"))
        let loaded = try #require(try prometheus.value("workqueue_items_loaded_total"))
        print("metrics: loaded \(loaded), processed \(processed), dead-lettered \(deadLettered), repeated \(repeated)")
        #expect(loaded == 300)
        #expect(deadLettered == 30)
        #expect(processed + deadLettered - repeated == loaded)
        #expect(try prometheus.value("sum(workqueue_pod_items_processed_total)") == processed)
        // A kill between a dead letter's confirm and its count leaves a second copy there, counted once.
        let waiting = try #require(try prometheus.value("workqueue_dead_letters_waiting"))
        #expect(waiting >= 30 && waiting <= 32, "\(waiting) dead letters waiting")
        #expect(try prometheus.value("workqueue_done_ratio") == 1)
        // Good items take 50 ms and more (a shell and a sleep), bad ones a few ms: the median lies
        // in the bucket between 32 and 64 ms or the next.
        let median = try #require(try prometheus.value("histogram_quantile(0.5, workqueue_item_duration_seconds_bucket)"))
        #expect(median > 0.032 && median <= 0.128, "median \(median)")
        // Every attempt reported took a time: the successes and the 60 failed attempts. The kill -9
        // of pod-1 can take an attempt that ended but was not reported yet (its item is restamped
        // and tried again elsewhere), or leave a retried item's original to be tried once more:
        // at most pod-1's prefetch (5) either way.
        let attempts = try #require(try prometheus.value("workqueue_item_duration_seconds_count"))
        #expect(abs(attempts - (processed + 60)) <= 5, "\(attempts) durations counted for \(processed) processed and 60 failed attempts")
        // The restart under the same name added to pod-1's counter: no reset for the pod or the Job.
        #expect(try prometheus.value(#"resets(workqueue_pod_items_processed_total{pod="pod-1"}[10m])"#) == 0)
        #expect(try prometheus.value("resets(workqueue_items_processed_total[10m])") == 0)
        #expect(try prometheus.value(#"up{job="wqtop"}"#) == 1)
        #expect(try prometheus.value("workqueue_monitor_connected") == 1)
        // The text page passes promtool's checks (and its lint).
        let page = try HTTP.get(port: port, path: "/metrics").body
        let pagePath = s.path("page.txt")
        try page.write(toFile: pagePath, atomically: true, encoding: .utf8)
        let check = try promtoolCheckMetrics(pagePath)
        #expect(check.status == 0, "\(check.output)")
        wqtop.signal(SIGTERM)
        #expect(try wqtop.wait(timeout: 10).status == 143)
    }

    @Test("with 3 shards the page keeps the Job's totals and adds each shard's ready and consumers; promtool accepts it")
    func shardSeries() throws {
        let s = try Scenario("metrics-shards", environment: ["WORK_QUEUE_SHARDS": "3"])
        let q = s.queue
        let topology = Topology(queue: q, queueType: .classic, shards: 3)
        let publisher = try s.connect()
        defer {
            for name in topology.workQueues { try? publisher.deleteQueue(name) }
            publisher.close()
        }
        try topology.declare(using: publisher.declareQueue, orFind: publisher.inspectQueue)
        for (shard, count) in [(0, 2), (2, 4)] {
            for _ in 0..<count { try Array("x".utf8).withUnsafeBytes { try publisher.publish(routingKey: "\(q).\(shard)", body: $0, mandatory: false) } }
        }
        let (wqtop, port) = try serve(s)
        var page: [String: Double] = [:]
        try waitUntil("the shards on the page") {
            page = try samples(port: port)
            return page["workqueue_shard_ready_messages{queue=\"\(q)\",shard=\"2\"}"] == 4
        }
        #expect(page["workqueue_ready_messages{queue=\"\(q)\"}"] == 6)
        #expect(page["workqueue_consumers{queue=\"\(q)\"}"] == 0)
        #expect(page["workqueue_shard_ready_messages{queue=\"\(q)\",shard=\"0\"}"] == 2)
        #expect(page["workqueue_shard_ready_messages{queue=\"\(q)\",shard=\"1\"}"] == 0)
        #expect(page["workqueue_shard_consumers{queue=\"\(q)\",shard=\"1\"}"] == 0)
        let pagePath = s.path("page.txt")
        try HTTP.get(port: port, path: "/metrics").body.write(toFile: pagePath, atomically: true, encoding: .utf8)
        let check = try promtoolCheckMetrics(pagePath)
        #expect(check.status == 0, "\(check.output)")
        wqtop.signal(SIGTERM)
        #expect(try wqtop.wait(timeout: 10).status == 143)
    }

    @Test("a broken page fails promtool check metrics (the check above can fail)")
    func promtoolRejectsBrokenPage() throws {
        let s = try Scenario("metrics-broken")
        let path = s.path("bad.txt")
        try "# TYPE workqueue_items_processed_total counter\nworkqueue_items_processed_total{queue=\"q\" 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let check = try promtoolCheckMetrics(path)
        #expect(check.status != 0, "\(check.output)")
    }

    @Test("with the broker stopped the page says so and /healthz stays 200; counters do not go back once it returns")
    func brokerAway() throws {
        let s = try Scenario("metrics-away")
        let (wqtop, port) = try serve(s)
        try s.load(["--quiet", "a", "b", "c"])
        let drain = try s.run("processor", ["--quiet", "--", "true"])
        #expect(drain.status == 0, "\(drain.output)")
        try waitUntil("the page to count 3", timeout: 20) { try samples(port: port)[#"workqueue_items_processed_total{queue="\#(s.queue)"}"#] == 3 }
        try BrokerControl.whileStopped {
            try waitUntil("the page to say wqtop is not connected", timeout: 30) {
                try samples(port: port)[#"workqueue_monitor_connected{queue="\#(s.queue)"}"#] == 0
            }
            #expect(try HTTP.get(port: port, path: "/healthz").status == 200)
            #expect(try samples(port: port)[#"workqueue_items_processed_total{queue="\#(s.queue)"}"#] == 3)
        }
        try waitUntil("the page to say wqtop is connected again", timeout: 30) {
            try samples(port: port)[#"workqueue_monitor_connected{queue="\#(s.queue)"}"#] == 1
        }
        let page = try samples(port: port)
        #expect(page[#"workqueue_items_processed_total{queue="\#(s.queue)"}"#] == 3)
        #expect((page[#"workqueue_monitor_sample_errors_total{queue="\#(s.queue)"}"#] ?? 0) >= 1)
        #expect(wqtop.stderr.contains("connected to"), "\(wqtop.stderr)")
        #expect(!wqtop.stderr.contains("guest:guest") && !wqtop.stderr.contains("password"), "\(wqtop.stderr)")
        wqtop.signal(SIGTERM)
        #expect(try wqtop.wait(timeout: 10).status == 143)
    }

    @Test("a burst of 20,000 events from 2,000 pods: the page keeps being published (/healthz 200), SIGTERM ends it at once, every pod counted")
    func burstOfEvents() throws {
        let s = try Scenario("metrics-burst")
        try s.load(["--quiet", "x"])
        let (wqtop, port) = try serve(s)
        // wqtop's own queue is bound once it samples: wait for a page that shows it connected.
        try waitUntil("wqtop connected", timeout: 20) { try samples(port: port)[#"workqueue_monitor_connected{queue="\#(s.queue)"}"#] == 1 }
        let publish = #"""
            import json, sys, time, pika
            port, queue = int(sys.argv[1]), sys.argv[2]
            connection = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=port))
            channel = connection.channel()
            started = time.time()
            for seq in range(1, 11):
                for pod in range(2000):
                    event = {"v": 1, "queue": queue, "pod": f"burst-{pod}", "instance": f"{pod:08x}", "state": "working",
                             "processed": seq, "failed": 0, "retried": 0, "dead_lettered": 0, "in_hand": 1,
                             "started_at": started, "sent_at": time.time(), "rate": 1.0, "seq": seq}
                    channel.basic_publish(exchange=queue + ".progress", routing_key="", body=json.dumps(event).encode())
            connection.close()
            """#
        let publisher = try Command(Tools.bin + "/python", ["-c", publish, String(TestBroker.port), s.queue], timeout: 120).start()
        s.adopt(publisher)
        try waitUntil("the first events on the page", timeout: 30) {
            (try samples(port: port)[#"workqueue_items_processed_total{queue="\#(s.queue)"}"#] ?? 0) > 0
        }
        #expect(try HTTP.get(port: port, path: "/healthz").status == 200)
        let published = try publisher.wait(timeout: 120)
        #expect(published.status == 0, "\(published.output)")
        // Reading events in a burst used to walk rabbitmq-c's queue of frames on every event: minutes.
        try waitUntil("the page to count every pod's 10 items", timeout: 30) {
            try samples(port: port)[#"workqueue_items_processed_total{queue="\#(s.queue)"}"#] == 20_000
        }
        #expect(try HTTP.get(port: port, path: "/healthz").status == 200)
        let stopped = Date()
        wqtop.signal(SIGTERM)
        #expect(try wqtop.wait(timeout: 20).status == 143)
        #expect(Date().timeIntervalSince(stopped) < 5, "SIGTERM took \(Date().timeIntervalSince(stopped)) s")
    }

    @Test("a port in use: one line naming it, exit 69; a bad address: one line, exit 64; --serve with --once: exit 64")
    func badAddresses() throws {
        let s = try Scenario("metrics-port")
        let (first, port) = try serve(s)
        let second = try s.run("wqtop", ["--serve", "127.0.0.1:\(port)"], timeout: 30)
        #expect(second.status == 69, "\(second.output)")
        #expect(second.stderr.split(separator: "\n").count == 1 && second.stderr.contains("in use"), "\(second.stderr)")
        let bad = try s.run("wqtop", [], adding: ["WORK_QUEUE_SERVE": "9464"], timeout: 30)
        #expect(bad.status == 64 && bad.stderr.contains("WORK_QUEUE_SERVE wants [HOST]:PORT"), "\(bad.output)")
        let once = try s.run("wqtop", ["--serve", ":0", "--once"], timeout: 30)
        #expect(once.status == 64, "\(once.output)")
        first.signal(SIGTERM)
        #expect(try first.wait(timeout: 10).status == 143)
    }
}
