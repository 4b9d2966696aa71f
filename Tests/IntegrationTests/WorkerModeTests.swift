import Foundation
import TestSupport
import Testing

/// Every line of the files in `dir` whose names start with `prefix`.
func lines(in dir: String, prefix: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(prefix) }.flatMap { name in
        try String(contentsOfFile: dir + "/" + name, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }
}

/// A Python --stdio worker for the tests: records each item in $OUT/done-PID (as JSON when
/// started with --json), then answers; crashes, hangs or fails on items named so.
let testWorker = #"""
import json, os, sys, time
as_json = "--json" in sys.argv
out = open(os.path.join(os.environ["OUT"], "done-%d" % os.getpid()), "a")
for raw in sys.stdin:
    item = json.loads(raw) if as_json else raw.rstrip("\n")
    if item == "crash-once" and not os.path.exists(os.path.join(os.environ["OUT"], "crashed")):
        open(os.path.join(os.environ["OUT"], "crashed"), "w").close()
        os._exit(3)
    if item == "hang-once" and not os.path.exists(os.path.join(os.environ["OUT"], "hung")):
        open(os.path.join(os.environ["OUT"], "hung"), "w").close()
        time.sleep(60)
    if item == "bad":
        print("fail: bad item", flush=True)
        continue
    if item == "chatty":
        print("hello from the worker", flush=True)
        continue
    if item.startswith("slow"):
        open(os.path.join(os.environ["OUT"], "got-" + item), "w").close()
        time.sleep(1)
    out.write(json.dumps(item) + "\n")
    out.flush()
    print("ok", flush=True)
"""#

@Suite("--stdio workers and --concurrency against a real RabbitMQ", .serialized)
struct WorkerModeTests {
    /// A scenario with `testWorker` in `$OUT/worker.py`, and that script's path.
    func setUp(_ label: String) throws -> (Scenario, script: String) {
        let s = try Scenario(label)
        let script = s.path("worker.py")
        try testWorker.write(toFile: script, atomically: true, encoding: .utf8)
        return (s, script)
    }

    @Test("a Python --stdio worker drains 20,000 items, each exactly once, started once per slot")
    func pythonWorkerDrains() throws {
        let (s, script) = try setUp("stdio")
        try s.load(["--count", "20000", "--quiet"])
        let result = try s.run("processor", ["--quiet", "--stdio", "--concurrency", "2", "--prefetch", "100", "--", "python3", script], timeout: 300)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("processed all work: 20000 items (0 failed)"))
        let done = try lines(in: s.dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done.count == 20000)
        #expect(Set(done) == Set((0..<20000).map(String.init)))
        let workers = try FileManager.default.contentsOfDirectory(atPath: s.dir.path).filter { $0.hasPrefix("done-") }
        #expect(workers.count == 2, "one Python process per slot, kept for every item: \(workers)")
    }

    @Test("a worker crash mid-item fails that item once; it is retried and every other item is done")
    func workerCrash() throws {
        let (s, script) = try setUp("crash")
        let items = (1...20).map { "item-\($0)" } + ["crash-once"] + (21...40).map { "item-\($0)" }
        try s.load(items)
        let result = try s.run("processor", ["--stdio", "--", "python3", script], timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("item crash-once failed (the --stdio worker exited (exit status 3) while working on it); attempt 1 of 3, queued again"))
        let done = try lines(in: s.dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done.sorted() == items.sorted())
        #expect(try s.counts(s.failedQueue)?.ready == 0)
    }

    @Test("a multi-line item goes to the dead-letter queue with --stdio-format lines and through with json")
    func multiLineItems() throws {
        let (s, script) = try setUp("multiline")
        let multi = "first line\nsecond \"line\" \\ 日本"
        try s.load(["plain"])
        try s.load([multi])
        let lines1 = try s.run("processor", ["--stdio", "--", "python3", script], timeout: 60)
        #expect(lines1.status == 0, "\(lines1.output)")
        #expect(lines1.stderr.contains("holds a newline, which --stdio-format lines cannot send (use --stdio-format json)); moved to \(s.failedQueue)"))
        let dead = try s.drain(s.failedQueue)
        #expect(dead.map { String(decoding: $0.body, as: UTF8.self) } == [multi])
        #expect(dead.first?.headers["x-attempts"] == .int(1), "not retried: it can never succeed in this format")

        try s.load([multi])
        let json = try s.run("processor", ["--stdio", "--stdio-format", "json", "--", "python3", script, "--json"], timeout: 60)
        #expect(json.status == 0, "\(json.output)")
        let done = try lines(in: s.dir.path, prefix: "done-").compactMap { try JSONDecoder().decode(String.self, from: Data($0.utf8)) }
        #expect(done.sorted() == ["plain", multi].sorted())
    }

    @Test("fail answers and protocol errors are failed attempts; a hung worker is killed at --item-timeout and restarted")
    func failuresAndTimeout() throws {
        let (s, script) = try setUp("stdio-fail")
        try s.load(["a", "bad", "chatty", "hang-once", "b"])
        let result = try s.run("processor", ["--stdio", "--max-attempts", "2", "--item-timeout", "2", "--", "python3", script], timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("item bad failed (the worker answered: bad item); attempt 1 of 2, queued again"))
        #expect(result.stderr.contains("item chatty failed (protocol error: the worker answered 'hello from the worker' instead of ok or fail)"))
        #expect(result.stderr.contains("item hang-once failed (timed out after 2.00 s)"))
        let done = try lines(in: s.dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done.sorted() == ["a", "b", "hang-once"])
        let dead = try s.drain(s.failedQueue).map { String(decoding: $0.body, as: UTF8.self) }
        #expect(dead.sorted() == ["bad", "chatty"])
    }

    @Test("a worker that never answers is given up on: exit 1 with one clear line")
    func brokenWorker() throws {
        let (s, _) = try setUp("broken")
        try s.load(["--count", "3", "--quiet"])
        let result = try s.run("processor", ["--stdio", "--max-attempts", "10", "--", "sh", "-c", "echo 'ImportError: no module' >&2; exit 2"], timeout: 120)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("processor: the --stdio worker exited 5 times in a row without answering a single item; see its stderr above"))
        #expect(result.stderr.contains("ImportError: no module"))
        // Each crash failed the item in hand, the last one too: all went through the retry rules.
        let retried = result.stderr.components(separatedBy: "while working on it); attempt").count - 1
        #expect(retried == 5, "\(result.stderr)")
        #expect(try s.counts()?.ready == 3, "nothing lost")
    }

    @Test("a worker that exits 0 with an item in hand, without answering, fails the attempt: only its ok counts")
    func silentExitIsNoSuccess() throws {
        let (s, _) = try setUp("silent-exit")
        try s.load(["a", "b"])
        let result = try s.run("processor", ["--stdio", "--max-attempts", "2", "--", "sh", "-c", "read line; exit 0"], timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("processed all work: 0 items (2 failed)"), "\(result.stderr)")
        let dead = try s.drain(s.failedQueue)
        #expect(dead.map { String(decoding: $0.body, as: UTF8.self) }.sorted() == ["a", "b"])
        #expect(dead.allSatisfy { $0.headers["x-failure-reason"] == .string("the --stdio worker exited (exit status 0) while working on it") })
    }

    @Test("SIGTERM closes the worker's stdin: the item in hand finishes and is acknowledged, then exit 143")
    func stdioStop() throws {
        let (s, script) = try setUp("stdio-stop")
        try s.load(["slow-1", "slow-2", "slow-3"])
        let processor = try s.start("processor", ["--stdio", "--", "python3", script])
        try s.waitForFile("got-slow-1")  // the worker has slow-1 in hand
        #expect(try s.counts()?.ready == 2)
        processor.signal(SIGTERM)
        let result = try processor.wait(timeout: 30)
        #expect(result.status == 143, "\(result.output)")
        let done = try lines(in: s.dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done == ["slow-1"])
        #expect(try s.counts()?.ready == 2, "slow-1 acknowledged, the others back in the queue")
    }

    @Test("--concurrency 4 runs exactly four 0.25 s commands at once and finishes all 40 items")
    func concurrency() throws {
        let (s, _) = try setUp("concurrency")
        try s.load(["--count", "40", "--quiet"])
        let script = #"echo "start $(date +%s.%N)" >> "$OUT/log-$1"; sleep 0.25; echo "end $(date +%s.%N)" >> "$OUT/log-$1""#
        let started = Date()
        let result = try s.run("processor", ["--quiet", "--concurrency", "4"] + Scenario.shell(script), timeout: 120)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("processed all work: 40 items"))
        var events: [(Double, Int)] = []
        for line in try lines(in: s.dir.path, prefix: "log-") {
            let parts = line.split(separator: " ")
            events.append((Double(parts[1]) ?? 0, parts[0] == "start" ? 1 : -1))
        }
        #expect(events.count == 80)
        var current = 0
        var most = 0
        for (_, delta) in events.sorted(by: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }) {
            current += delta
            most = max(most, current)
        }
        #expect(most == 4, "at most \(most) commands overlapped (40 items took \(elapsed) s; serially 10 s)")
    }

    @Test("the examples work: the Python and shell workers drain items through --stdio")
    func examples() throws {
        let (s, _) = try setUp("examples")
        let root = Executables.packageRoot.path
        let results = s.path("results")
        try s.load(["one two", "three"])
        let python = try s.run("processor", ["--stdio", "--", "python3", root + "/examples/worker.py"], adding: ["RESULTS": results])
        #expect(python.status == 0, "\(python.output)")
        #expect(try String(contentsOfFile: results, encoding: .utf8) == "one two\t2\nthree\t1\n")
        try s.load([root + "/Package.swift", "/no/such/file"])
        let shell = try s.run("processor", ["--stdio", "--max-attempts", "1", "--", "sh", root + "/examples/worker.sh"], adding: ["RESULTS": results])
        #expect(shell.status == 0, "\(shell.output)")
        #expect(shell.stderr.contains("item /no/such/file failed (the worker answered: no such file: /no/such/file)"))
        #expect(try String(contentsOfFile: results, encoding: .utf8).contains("  \(root)/Package.swift\n"))
    }
}
