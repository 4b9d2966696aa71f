import Foundation
import Core
import TestSupport
import Testing
import AMQPClient

@Suite("Loading and draining against a real RabbitMQ", .serialized)
struct LoadAndDrainTests {
    @Test("the default load of 0..99 is drained by 3 demo processors, each item once, all exit 0")
    func defaultLoadThreeProcessors() throws {
        let s = try Scenario("default")
        let load = try s.run("loader")
        #expect(load.status == 0, "\(load.output)")
        #expect(load.stderr.contains("connecting to work queue 127.0.0.1 \(TestBroker.port)"))
        #expect(load.stderr.contains("connected to work queue"))
        #expect(load.stderr.contains("loading data: 0"))
        #expect(load.stderr.contains("loaded data"))
        #expect(load.stderr.contains("loaded 100 items in"))
        let processors = try s.startProcessors(3)
        let results = try processors.map { try $0.wait(timeout: 60) }
        var seen: [String] = []
        for result in results {
            #expect(result.status == 0, "\(result.output)")
            #expect(result.stderr.contains("processed all work:"))
            seen += result.stdout.split(separator: "\n").filter { $0.hasPrefix("processed ") }.map { String($0.dropFirst(10)) }
        }
        #expect(seen.sorted() == (0..<100).map(String.init).sorted())
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("a command per item does every item exactly once and gets it in stdin, {} and WORK_ITEM")
    func commandPerItem() throws {
        let s = try Scenario("command", environment: ["JOB_PASS": "job-secret"])
        try s.load(["--count", "300", "--quiet"])
        let script = #"test "$WORK_ITEM" = "$1" && test "$(cat)" = "$1" && test "$JOB_PASS" = job-secret && printf '%s\n' "$1" >> "$OUT/done""#
        let processors = try s.startProcessors(3, ["--quiet"] + Scenario.shell(script))
        for p in processors {
            let r = try p.wait(timeout: 120)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stderr.contains("(0 failed)"))
        }
        let done = try String(contentsOfFile: s.path("done"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(done.count == 300)
        #expect(Set(done) == Set((0..<300).map(String.init)))
    }

    @Test("odd items round-trip byte for byte: 200 kB, 8 MiB (more than a socket buffer takes at once), UTF-8, quotes, spaces, from a file and stdin")
    func oddItemsRoundTrip() throws {
        let s = try Scenario("odd")
        let items: [[UInt8]] = [
            [UInt8](repeating: 0x41, count: 200_000),
            [UInt8](repeating: 0x42, count: 8 << 20),
            Array("zażółć gęślą jaźń 🚀 日本語".utf8),
            Array(#"it's "quoted" $HOME `id` \n"#.utf8),
            Array("  leading and trailing spaces  ".utf8),
            Array("tab\tinside".utf8),
        ]
        let file = s.path("items.txt")
        var text: [UInt8] = []
        for item in items { text += item + [0x0D, 0x0A] }
        text += [0x0A]  // an empty line is skipped
        #expect(FileManager.default.createFile(atPath: file, contents: Data(text)))
        let byFile = try s.run("loader", ["--file", file])
        #expect(byFile.status == 0, "\(byFile.output)")
        #expect(byFile.stderr.contains("loaded 6 items"))
        let byStdin = try s.run("loader", ["--file", "-"], stdin: Data(text))
        #expect(byStdin.status == 0, "\(byStdin.output)")
        let drained = try s.drain()
        #expect(drained.map(\.body) == items + items)

        // Through a command: the command copies its stdin to a file per item.
        try s.load(["--file", file, "--quiet"])
        let copy = #"cat > "$OUT/item.$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')""#
        let r = try s.run("processor", ["--quiet", "--", "sh", "-c", copy], timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        let copies = try FileManager.default.contentsOfDirectory(atPath: s.dir.path).filter { $0.hasPrefix("item.") }
            .map { Array(FileManager.default.contents(atPath: s.path($0)) ?? Data()) }
        #expect(copies.sorted { $0.lexicographicallyPrecedes($1) } == items.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test("a slow producer on --file -: each item reaches the queue when it is read, not when more input comes")
    func slowProducer() throws {
        let s = try Scenario("slow-producer")
        let loader = Executables.binDirectory.appendingPathComponent("loader").path
        let pipeline = "(echo first; echo second; sleep 6; echo third) | '\(loader)' --quiet --file -"
        let running = try Command("/bin/sh", ["-c", pipeline], environment: TestBroker.environment(queue: s.queue), timeout: 30).start()
        // Long before the producer writes again: the first two items are in the queue.
        try s.waitForReady(2, timeout: 4)
        let end = try running.wait(timeout: 30)
        #expect(end.status == 0, "\(end.output)")
        #expect(try s.counts()?.ready == 3)
    }

    @Test("the loader names items on the command line; the processor with nothing to do exits 0 quickly")
    func argumentsAndEmptyQueue() throws {
        let s = try Scenario("args")
        let load = try s.run("loader", ["alpha", "beta gamma"])
        #expect(load.status == 0)
        #expect(load.stderr.contains("loading data: beta gamma"))
        let first = try s.run("processor")
        #expect(first.stdout.contains("got id alpha\nprocessed alpha\n"))
        #expect(first.stdout.contains("processed beta gamma"))
        let started = Date()
        let empty = try s.run("processor")
        #expect(empty.status == 0)
        #expect(empty.stderr.contains("processed all work: 0 items (0 failed)"))
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("a big load prints progress lines, not a line per item")
    func bigLoadProgress() throws {
        let s = try Scenario("big")
        let load = try s.run("loader", ["--count", "20000"])
        #expect(load.status == 0, "\(load.output)")
        #expect(!load.stderr.contains("loading data: 150\n"))
        #expect(load.stderr.contains("loaded 20000 items in"))
        #expect(try s.counts()?.ready == 20000)
        let quiet = try s.run("loader", ["--count", "10", "--quiet"])
        #expect(quiet.stderr.split(separator: "\n").count == 1)
    }
}
