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
    func setUp(_ label: String) throws -> (queue: String, dir: TempDir, env: [String: String], script: String) {
        let queue = TestBroker.uniqueQueue(label)
        let dir = try TempDir()
        let script = dir.path + "/worker.py"
        try testWorker.write(toFile: script, atomically: true, encoding: .utf8)
        return (queue, dir, TestBroker.environment(queue: queue, extra: ["OUT": dir.path]), script)
    }

    @Test("a Python --stdio worker drains 20,000 items, each exactly once, started once per slot")
    func pythonWorkerDrains() throws {
        let (queue, dir, env, script) = try setUp("stdio")
        defer { TestBroker.cleanUp(queue) }
        #expect(try Executables.run("loader", ["--count", "20000", "--quiet"], environment: env).status == 0)
        let result = try Executables.run(
            "processor", ["--quiet", "--stdio", "--concurrency", "2", "--prefetch", "100", "--", "python3", script],
            environment: env, timeout: 300)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("processed all work: 20000 items (0 failed)"))
        let done = try lines(in: dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done.count == 20000)
        #expect(Set(done) == Set((0..<20000).map(String.init)))
        let workers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("done-") }
        #expect(workers.count == 2, "one Python process per slot, kept for every item: \(workers)")
    }

    @Test("a worker crash mid-item fails that item once; it is retried and every other item is done")
    func workerCrash() throws {
        let (queue, dir, env, script) = try setUp("crash")
        defer { TestBroker.cleanUp(queue) }
        let items = (1...20).map { "item-\($0)" } + ["crash-once"] + (21...40).map { "item-\($0)" }
        #expect(try Executables.run("loader", items, environment: env).status == 0)
        let result = try Executables.run("processor", ["--stdio", "--", "python3", script], environment: env, timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("item crash-once failed (the --stdio worker exited (exit status 3) while working on it); attempt 1 of 3, queued again"))
        let done = try lines(in: dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done.sorted() == items.sorted())
        #expect(try TestBroker.counts(queue + ".failed")?.ready == 0)
    }

    @Test("a multi-line item goes to the dead-letter queue with --stdio-format lines and through with json")
    func multiLineItems() throws {
        let (queue, dir, env, script) = try setUp("multiline")
        defer { TestBroker.cleanUp(queue) }
        let multi = "first line\nsecond \"line\" \\ 日本"
        #expect(try Executables.run("loader", ["plain"], environment: env).status == 0)
        #expect(try Executables.run("loader", [multi], environment: env).status == 0)
        let lines1 = try Executables.run("processor", ["--stdio", "--", "python3", script], environment: env, timeout: 60)
        #expect(lines1.status == 0, "\(lines1.output)")
        #expect(lines1.stderr.contains("holds a newline, which --stdio-format lines cannot send (use --stdio-format json)); moved to \(queue).failed"))
        let dead = try TestBroker.drain(queue + ".failed")
        #expect(dead.map { String(decoding: $0.body, as: UTF8.self) } == [multi])
        #expect(dead.first?.headers["x-attempts"] == .int(1), "not retried: it can never succeed in this format")

        #expect(try Executables.run("loader", [multi], environment: env).status == 0)
        let json = try Executables.run(
            "processor", ["--stdio", "--stdio-format", "json", "--", "python3", script, "--json"], environment: env, timeout: 60)
        #expect(json.status == 0, "\(json.output)")
        let done = try lines(in: dir.path, prefix: "done-").compactMap { try JSONDecoder().decode(String.self, from: Data($0.utf8)) }
        #expect(done.sorted() == ["plain", multi].sorted())
    }

    @Test("fail answers and protocol errors are failed attempts; a hung worker is killed at --item-timeout and restarted")
    func failuresAndTimeout() throws {
        let (queue, dir, env, script) = try setUp("stdio-fail")
        defer { TestBroker.cleanUp(queue) }
        #expect(try Executables.run("loader", ["a", "bad", "chatty", "hang-once", "b"], environment: env).status == 0)
        let result = try Executables.run(
            "processor", ["--stdio", "--max-attempts", "2", "--item-timeout", "2", "--", "python3", script], environment: env, timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("item bad failed (the worker answered: bad item); attempt 1 of 2, queued again"))
        #expect(result.stderr.contains("item chatty failed (protocol error: the worker answered 'hello from the worker' instead of ok or fail)"))
        #expect(result.stderr.contains("item hang-once failed (timed out after 2.00 s)"))
        let done = try lines(in: dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done.sorted() == ["a", "b", "hang-once"])
        let dead = try TestBroker.drain(queue + ".failed").map { String(decoding: $0.body, as: UTF8.self) }
        #expect(dead.sorted() == ["bad", "chatty"])
    }

    @Test("a worker that never answers is given up on: exit 1 with one clear line")
    func brokenWorker() throws {
        let (queue, _, env, _) = try setUp("broken")
        defer { TestBroker.cleanUp(queue) }
        #expect(try Executables.run("loader", ["--count", "3", "--quiet"], environment: env).status == 0)
        let result = try Executables.run(
            "processor", ["--stdio", "--max-attempts", "10", "--", "sh", "-c", "echo 'ImportError: no module' >&2; exit 2"],
            environment: env, timeout: 120)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("processor: the --stdio worker exited 5 times in a row without answering a single item; see its stderr above"))
        #expect(result.stderr.contains("ImportError: no module"))
        // Each crash failed the item in hand, the last one too: all went through the retry rules.
        let retried = result.stderr.components(separatedBy: "while working on it); attempt").count - 1
        #expect(retried == 5, "\(result.stderr)")
        #expect(try TestBroker.counts(queue)?.ready == 3, "nothing lost")
    }

    @Test("a worker that exits 0 with an item in hand, without answering, fails the attempt: only its ok counts")
    func silentExitIsNoSuccess() throws {
        let (queue, _, env, _) = try setUp("silent-exit")
        defer { TestBroker.cleanUp(queue) }
        #expect(try Executables.run("loader", ["a", "b"], environment: env).status == 0)
        let result = try Executables.run(
            "processor", ["--stdio", "--max-attempts", "2", "--", "sh", "-c", "read line; exit 0"],
            environment: env, timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("processed all work: 0 items (2 failed)"), "\(result.stderr)")
        let dead = try TestBroker.drain(queue + ".failed")
        #expect(dead.map { String(decoding: $0.body, as: UTF8.self) }.sorted() == ["a", "b"])
        #expect(dead.allSatisfy { $0.headers["x-failure-reason"] == .string("the --stdio worker exited (exit status 0) while working on it") })
    }

    @Test("SIGTERM closes the worker's stdin: the item in hand finishes and is acknowledged, then exit 143")
    func stdioStop() throws {
        let (queue, dir, env, script) = try setUp("stdio-stop")
        defer { TestBroker.cleanUp(queue) }
        #expect(try Executables.run("loader", ["slow-1", "slow-2", "slow-3"], environment: env).status == 0)
        let processor = try Executables.start("processor", ["--stdio", "--", "python3", script], environment: env)
        try waitUntil("the worker to have slow-1 in hand") { FileManager.default.fileExists(atPath: dir.path + "/got-slow-1") }
        #expect(try TestBroker.counts(queue)?.ready == 2)
        processor.signal(SIGTERM)
        let result = try processor.wait(timeout: 30)
        #expect(result.status == 143, "\(result.output)")
        let done = try lines(in: dir.path, prefix: "done-").map { String($0.dropFirst().dropLast()) }
        #expect(done == ["slow-1"])
        #expect(try TestBroker.counts(queue)?.ready == 2, "slow-1 acknowledged, the others back in the queue")
    }

    @Test("--concurrency 4 runs exactly four 0.25 s commands at once and finishes all 40 items")
    func concurrency() throws {
        let (queue, dir, env, _) = try setUp("concurrency")
        defer { TestBroker.cleanUp(queue) }
        #expect(try Executables.run("loader", ["--count", "40", "--quiet"], environment: env).status == 0)
        let script = #"echo "start $(date +%s.%N)" >> "$OUT/log-$1"; sleep 0.25; echo "end $(date +%s.%N)" >> "$OUT/log-$1""#
        let started = Date()
        let result = try Executables.run(
            "processor", ["--quiet", "--concurrency", "4", "--", "sh", "-c", script, "sh", "{}"], environment: env, timeout: 120)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("processed all work: 40 items"))
        var events: [(Double, Int)] = []
        for line in try lines(in: dir.path, prefix: "log-") {
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
        let (queue, dir, env, _) = try setUp("examples")
        defer { TestBroker.cleanUp(queue) }
        let root = Executables.packageRoot.path
        let results = dir.path + "/results"
        var withResults = env
        withResults["RESULTS"] = results
        #expect(try Executables.run("loader", ["one two", "three"], environment: env).status == 0)
        let python = try Executables.run("processor", ["--stdio", "--", "python3", root + "/examples/worker.py"], environment: withResults)
        #expect(python.status == 0, "\(python.output)")
        #expect(try String(contentsOfFile: results, encoding: .utf8) == "one two\t2\nthree\t1\n")
        #expect(try Executables.run("loader", [root + "/Package.swift", "/no/such/file"], environment: env).status == 0)
        let shell = try Executables.run(
            "processor", ["--stdio", "--max-attempts", "1", "--", "sh", root + "/examples/worker.sh"], environment: withResults)
        #expect(shell.status == 0, "\(shell.output)")
        #expect(shell.stderr.contains("item /no/such/file failed (the worker answered: no such file: /no/such/file)"))
        #expect(try String(contentsOfFile: results, encoding: .utf8).contains("  \(root)/Package.swift\n"))
    }
}
