import Foundation
import TestSupport
import Testing
import Core
import AMQPClient

/// Faults a real cluster brings every week: a pod stopped while its item outlives the grace, an
/// item that kills its pod, and the ways out of a processor that must leave nothing behind.
@Suite("Pods stopped mid-item and items that kill their pod", .serialized)
struct PodFaultTests {
    @Test("a pod stopped while its item outlives --grace: the idle peer waits, takes the returned item, finishes it, then exits 0",
        arguments: QueueType.allCases)
    func stoppedHolderOutlivesGrace(type: QueueType) throws {
        let s = try Scenario("outlives", type: type)
        try s.load(["stubborn"])
        // The first run ignores SIGTERM and outlives the grace; the run after it finishes.
        let work = #"if [ -e "$OUT/first" ]; then echo "$1" >> "$OUT/done"; else echo $$ > "$OUT/first"; trap '' TERM; sleep 30; fi"#
        let args = ["--grace", "2"] + Scenario.shell(work)
        let holder = try s.start("processor", args)
        try s.waitForFile("first")
        let peer = try s.start("processor", args)
        // The peer holds nothing: it leaves the queue and samples it (waiting for others). A delay
        // that proves a negative: a peer that wrongly exits on the empty queue does so within it.
        usleep(1_200_000)
        #expect(peer.isRunning, "the peer exited while another processor held an item")
        holder.signal(SIGTERM)
        // Within the grace the holder still holds the item; a peer that exits now loses it. A delay
        // that proves a negative, and the scenario: most of the 2 s grace passes.
        usleep(1_500_000)
        #expect(peer.isRunning, "the peer exited 0 while the stopping processor still held an item")
        let results = try finish([holder, peer], timeout: 60)
        #expect(results[0].result.status == 143, "\(results[0].result.output)")
        #expect(results[1].result.status == 0, "\(results[1].result.output)")
        #expect(results[1].endedAt > results[0].endedAt, "the peer ended before the holder returned the item")
        #expect(s.done == ["stubborn"], "the returned item was not done: \(results[1].result.output)")
        #expect(results[0].result.stderr.contains("returned to the queue"), "\(results[0].result.stderr)")
        #expect(!results[1].result.stderr.contains("died"), "a SIGTERM return counted as a death: \(results[1].result.stderr)")
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        if let pid = Int32(s.lines("first").first ?? "") {
            #expect(try processGroupGone(pid), "the stubborn command outlived its processor")
        }
    }

    @Test("SIGTERM mid-drain with prefetched items returns every held item without spending an attempt",
        arguments: QueueType.allCases)
    func stopReturnsPrefetchedItems(type: QueueType) throws {
        let s = try Scenario("prefetched", type: type)
        try s.load(["--count", "150", "--quiet"])
        // With one attempt, any item that came back looking like its processor died would go
        // to QUEUE.failed without running.
        let args = ["--quiet", "--prefetch", "20", "--max-attempts", "1"] + Scenario.shell("sleep 0.01; " + Scenario.appendDone)
        let first = try s.start("processor", args)
        try s.waitForDone(30)
        first.signal(SIGTERM)
        let stopped = try first.wait(timeout: 30)
        #expect(stopped.status == 143, "\(stopped.output)")
        let second = try s.run("processor", args, timeout: 60)
        #expect(second.status == 0, "\(second.output)")
        #expect(!second.stderr.contains("died"), "\(second.stderr)")
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        #expect(Set(s.done) == Set((0..<150).map(String.init)))
    }

    @Test("an item that kills its processor is parked after --max-attempts deliveries while replacement processors drain the rest",
        arguments: QueueType.allCases)
    func killerItemIsParked(type: QueueType) throws {
        let s = try Scenario("killer", type: type)
        let good = (1...30).map { "good-\($0)" }
        try s.load(Array(good[..<10]) + ["killer"] + Array(good[10...]))
        // The processor is the command's parent: `kill -9 $PPID` is an OOM kill of the whole pod.
        let work = #"echo "$1" >> "$OUT/tries"; if [ "$1" = killer ]; then kill -9 $PPID; exit 0; fi; echo "$1" >> "$OUT/done""#
        // Replace the processor as a Job does, one pod at a time, until one succeeds.
        var exits: [Int32] = []
        while exits.last != 0 && exits.count < 8 {
            let pod = try s.start("processor", ["--max-attempts", "3"] + Scenario.shell(work))
            exits.append(try pod.wait(timeout: 60).status)
        }
        #expect(exits.last == 0, "no pod succeeded after \(exits.count) pods: \(exits)")
        #expect(exits.count == 4, "3 pods killed by the item, then one that parks it and drains the rest: \(exits)")
        #expect(s.lines("tries").filter { $0 == "killer" }.count == 3)
        #expect(Set(s.done) == Set(good))
        let dead = try s.drain(s.failedQueue)
        #expect(dead.map(\.body) == [Array("killer".utf8)])
        #expect(dead.first?.headers["x-attempts"] == .int(3))
        if case .string(let reason) = dead.first?.headers["x-failure-reason"] {
            #expect(reason.contains("the processor died while working on it"), "\(reason)")
        } else {
            Issue.record("no x-failure-reason header")
        }
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("an item whose command sends SIGTERM or SIGINT to its processor does not stop it: logged, ignored, every item done once, exit 0",
        arguments: ["TERM", "INT"])
    func commandSignallingItsProcessorIsIgnored(signal: String) throws {
        let s = try Scenario("selfstop")
        let good = (1...6).map { "good-\($0)" }
        try s.load(Array(good[..<3]) + ["stopper"] + Array(good[3...]))
        // Without the check this stop would return "stopper" unspent, and every replacement pod
        // would be stopped by it again: a Job replacing pods for ever.
        let work = #"echo "$1" >> "$OUT/tries"; if [ "$1" = stopper ]; then kill -\#(signal) $PPID; sleep 0.3; fi; echo "$1" >> "$OUT/done""#
        let p = try s.start("processor", ["--grace", "5"] + Scenario.shell(work))
        let result = try p.wait(timeout: 60)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("got SIG\(signal) from the work on item stopper"), "\(result.stderr)")
        #expect(result.stderr.contains("the work cannot stop its processor; ignored"), "\(result.stderr)")
        #expect(s.lines("tries").sorted() == (good + ["stopper"]).sorted(), "each item once: \(s.lines("tries"))")
        #expect(Set(s.done) == Set(good + ["stopper"]))
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("a fatal error ends the running commands (no item runs twice at once) and loses nothing")
    func fatalErrorEndsCommands() throws {
        let s = try Scenario("fatal")
        try s.load(["long", "bad"])
        // "long" runs for a minute; "bad" fails once QUEUE.failed is gone, so its move is returned
        // by the broker: a fatal error while "long" still runs.
        let work = #"if [ "$1" = long ]; then echo $$ > "$OUT/long"; exec sleep 60; fi; while [ ! -e "$OUT/go" ]; do sleep 0.05; done; exit 1"#
        let p = try s.start("processor", ["--concurrency", "2", "--max-attempts", "1", "--grace", "1"] + Scenario.shell(work))
        try s.waitForFile("long")
        let connection = try s.connect()
        try connection.deleteQueue(s.failedQueue)
        connection.close()
        _ = FileManager.default.createFile(atPath: s.path("go"), contents: nil)
        let result = try p.wait(timeout: 30)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("returned"), "\(result.stderr)")
        let pid = Int32(s.lines("long").first ?? "") ?? -1
        #expect(try processGroupGone(pid), "the running command outlived its processor")
        // Neither item was acknowledged: both are back in the queue.
        try s.waitForReady(2)
    }

    @Test("a retried and dead-lettered copy keeps the item's own properties and headers, every field kind")
    func copiesKeepProperties() throws {
        let s = try Scenario("props")
        // Declared by a processor that finds nothing to do, then loaded by pika with rich properties.
        #expect(try s.run("processor").status == 0)
        let publish = """
            import decimal, pika, sys
            c = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", int(sys.argv[1])))
            ch = c.channel()
            ch.basic_publish("", sys.argv[2], b"item", pika.BasicProperties(
                content_type="application/x-thing", content_encoding="gzip", correlation_id="corr-7",
                message_id="msg-7", app_id="tests", type="thing", priority=3, timestamp=1700000000,
                headers={"tenant": "blue", "n": 7, "flag": True, "ratio": decimal.Decimal("2.5"), "nested": {"a": 1}, "list": [1, "b"]}))
            c.close()
            """
        let load = try Command(Tools.bin + "/python", ["-c", publish, String(TestBroker.port), s.queue]).run()
        #expect(load.status == 0, "\(load.output)")
        let r = try s.run("processor", ["--max-attempts", "2", "--", "false"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("queued again"), "the item was not retried first: \(r.stderr)")
        let read = """
            import json, pika, sys
            c = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", int(sys.argv[1])))
            m, p, body = c.channel().basic_get(sys.argv[2] + ".failed", auto_ack=True)
            h = dict(p.headers)
            print(json.dumps({"body": body.decode(), "content_type": p.content_type, "content_encoding": p.content_encoding,
                "correlation_id": p.correlation_id, "message_id": p.message_id, "app_id": p.app_id, "type": p.type,
                "priority": p.priority, "timestamp": p.timestamp, "delivery_mode": p.delivery_mode,
                "tenant": h.get("tenant").decode() if isinstance(h.get("tenant"), bytes) else h.get("tenant"),
                "n": h.get("n"), "flag": h.get("flag"), "ratio": str(h.get("ratio")),
                "nested": h.get("nested"), "list": [x.decode() if isinstance(x, bytes) else x for x in h.get("list", [])],
                "attempts": h.get("x-attempts"), "reason": (h.get("x-failure-reason") or b"").decode() if isinstance(h.get("x-failure-reason"), bytes) else h.get("x-failure-reason")},
                sort_keys=True))
            c.close()
            """
        let got = try Command(Tools.bin + "/python", ["-c", read, String(TestBroker.port), s.queue]).run()
        #expect(got.status == 0, "\(got.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(got.stdout.utf8)) as? [String: Any], "\(got.output)")
        #expect(json["body"] as? String == "item")
        #expect(json["content_type"] as? String == "application/x-thing")
        #expect(json["content_encoding"] as? String == "gzip")
        #expect(json["correlation_id"] as? String == "corr-7")
        #expect(json["message_id"] as? String == "msg-7")
        #expect(json["app_id"] as? String == "tests")
        #expect(json["type"] as? String == "thing")
        #expect(json["priority"] as? Int == 3)
        #expect(json["timestamp"] as? Int == 1_700_000_000)
        #expect(json["delivery_mode"] as? Int == 2, "a copy is persistent")
        #expect(json["tenant"] as? String == "blue")
        #expect(json["n"] as? Int == 7)
        #expect(json["flag"] as? Bool == true)
        #expect(json["ratio"] as? String == "2.5")
        #expect((json["nested"] as? [String: Any])?["a"] as? Int == 1)
        #expect((json["list"] as? [Any])?.count == 2)
        #expect(json["attempts"] as? Int == 2)
        #expect((json["reason"] as? String)?.contains("exit status 1") == true, "\(got.stdout)")
    }
}
