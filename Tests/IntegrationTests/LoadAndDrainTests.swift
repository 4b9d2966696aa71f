import Foundation
import Core
import TestSupport
import Testing
import AMQPClient

@Suite("Loading and draining against a real RabbitMQ", .serialized)
struct LoadAndDrainTests {
    @Test("the default load of 0..99 is drained by 3 demo processors, each item once, all exit 0")
    func defaultLoadThreeProcessors() throws {
        let queue = TestBroker.uniqueQueue("default")
        defer { TestBroker.cleanUp(queue) }
        let env = TestBroker.environment(queue: queue)
        let load = try Executables.run("loader", [], environment: env)
        #expect(load.status == 0, "\(load.output)")
        #expect(load.stderr.contains("connecting to work queue 127.0.0.1 \(TestBroker.port)"))
        #expect(load.stderr.contains("connected to work queue"))
        #expect(load.stderr.contains("loading data: 0"))
        #expect(load.stderr.contains("loaded data"))
        #expect(load.stderr.contains("loaded 100 items in"))
        let processors = try (1...3).map { _ in try Executables.start("processor", [], environment: env) }
        let results = try processors.map { try $0.wait(timeout: 60) }
        var seen: [String] = []
        for result in results {
            #expect(result.status == 0, "\(result.output)")
            #expect(result.stderr.contains("processed all work:"))
            seen += result.stdout.split(separator: "\n").filter { $0.hasPrefix("processed ") }.map { String($0.dropFirst(10)) }
        }
        #expect(seen.sorted() == (0..<100).map(String.init).sorted())
        #expect(try TestBroker.counts(queue) == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("a command per item does every item exactly once and gets it in stdin, {} and WORK_ITEM")
    func commandPerItem() throws {
        let queue = TestBroker.uniqueQueue("command")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "JOB_PASS": "job-secret"])
        #expect(try Executables.run("loader", ["--count", "300", "--quiet"], environment: env).status == 0)
        let script = #"test "$WORK_ITEM" = "$1" && test "$(cat)" = "$1" && test "$JOB_PASS" = job-secret && printf '%s\n' "$1" >> "$OUT/done""#
        let processors = try (1...3).map { _ in
            try Executables.start("processor", ["--quiet", "--", "sh", "-c", script, "sh", "{}"], environment: env)
        }
        for p in processors {
            let r = try p.wait(timeout: 120)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stderr.contains("(0 failed)"))
        }
        let done = try String(contentsOfFile: dir.path + "/done", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(done.count == 300)
        #expect(Set(done) == Set((0..<300).map(String.init)))
    }

    @Test("odd items round-trip byte for byte: 200 kB, 8 MiB (more than a socket buffer takes at once), UTF-8, quotes, spaces, from a file and stdin")
    func oddItemsRoundTrip() throws {
        let queue = TestBroker.uniqueQueue("odd")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let items: [[UInt8]] = [
            [UInt8](repeating: 0x41, count: 200_000),
            [UInt8](repeating: 0x42, count: 8 << 20),
            Array("zażółć gęślą jaźń 🚀 日本語".utf8),
            Array(#"it's "quoted" $HOME `id` \n"#.utf8),
            Array("  leading and trailing spaces  ".utf8),
            Array("tab\tinside".utf8),
        ]
        let file = dir.path + "/items.txt"
        var text: [UInt8] = []
        for item in items { text += item + [0x0D, 0x0A] }
        text += [0x0A]  // an empty line is skipped
        #expect(FileManager.default.createFile(atPath: file, contents: Data(text)))
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path])
        let byFile = try Executables.run("loader", ["--file", file], environment: env)
        #expect(byFile.status == 0, "\(byFile.output)")
        #expect(byFile.stderr.contains("loaded 6 items"))
        let byStdin = try Executables.run("loader", ["--file", "-"], environment: env, stdin: Data(text))
        #expect(byStdin.status == 0, "\(byStdin.output)")
        let drained = try TestBroker.drain(queue)
        #expect(drained.map(\.body) == items + items)

        // Through a command: the command copies its stdin to a file per item.
        _ = try Executables.run("loader", ["--file", file, "--quiet"], environment: env)
        let copy = #"cat > "$OUT/item.$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')""#
        let r = try Executables.run("processor", ["--quiet", "--", "sh", "-c", copy], environment: env, timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        let copies = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("item.") }
            .map { Array(FileManager.default.contents(atPath: dir.path + "/" + $0) ?? Data()) }
        #expect(copies.sorted { $0.lexicographicallyPrecedes($1) } == items.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test("a slow producer on --file -: each item reaches the queue when it is read, not when more input comes")
    func slowProducer() throws {
        let queue = TestBroker.uniqueQueue("slow-producer")
        defer { TestBroker.cleanUp(queue) }
        let loader = Executables.binDirectory.appendingPathComponent("loader").path
        let pipeline = "(echo first; echo second; sleep 6; echo third) | '\(loader)' --quiet --file -"
        let running = try Command("/bin/sh", ["-c", pipeline], environment: TestBroker.environment(queue: queue), timeout: 30).start()
        // Long before the producer writes again: the first two items are in the queue.
        try waitUntil("the first two items in the queue", timeout: 4) { try TestBroker.counts(queue)?.ready == 2 }
        let end = try running.wait(timeout: 30)
        #expect(end.status == 0, "\(end.output)")
        #expect(try TestBroker.counts(queue)?.ready == 3)
    }

    @Test("the loader names items on the command line; the processor with nothing to do exits 0 quickly")
    func argumentsAndEmptyQueue() throws {
        let queue = TestBroker.uniqueQueue("args")
        defer { TestBroker.cleanUp(queue) }
        let env = TestBroker.environment(queue: queue)
        let load = try Executables.run("loader", ["alpha", "beta gamma"], environment: env)
        #expect(load.status == 0)
        #expect(load.stderr.contains("loading data: beta gamma"))
        let first = try Executables.run("processor", [], environment: env)
        #expect(first.stdout.contains("got id alpha\nprocessed alpha\n"))
        #expect(first.stdout.contains("processed beta gamma"))
        let started = Date()
        let empty = try Executables.run("processor", [], environment: env)
        #expect(empty.status == 0)
        #expect(empty.stderr.contains("processed all work: 0 items (0 failed)"))
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("a big load prints progress lines, not a line per item")
    func bigLoadProgress() throws {
        let queue = TestBroker.uniqueQueue("big")
        defer { TestBroker.cleanUp(queue) }
        let env = TestBroker.environment(queue: queue)
        let load = try Executables.run("loader", ["--count", "20000"], environment: env)
        #expect(load.status == 0, "\(load.output)")
        #expect(!load.stderr.contains("loading data: 150\n"))
        #expect(load.stderr.contains("loaded 20000 items in"))
        #expect(try TestBroker.counts(queue)?.ready == 20000)
        let quiet = try Executables.run("loader", ["--count", "10", "--quiet"], environment: env)
        #expect(quiet.stderr.split(separator: "\n").count == 1)
    }
}
