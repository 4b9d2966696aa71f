import Foundation
import Core
import TestSupport
import Testing
import AMQPClient

/// `processor --spawn-ahead` against a real RabbitMQ: the next command starts before its item, and
/// the item reaches it on stdin only.
@Suite("Commands started ahead of their items, against a real RabbitMQ", .serialized)
struct SpawnAheadTests {
    /// The contents of the `item.*` files the commands wrote into `$OUT`.
    func copies(_ s: Scenario) throws -> [[UInt8]] {
        try FileManager.default.contentsOfDirectory(atPath: s.dir.path).filter { $0.hasPrefix("item.") }
            .map { Array(FileManager.default.contents(atPath: s.path($0)) ?? Data()) }
    }

    /// Copies stdin to `$OUT/tmp.PID` (the shell opens it before its item comes), then renames it
    /// to `$OUT/item.*` once stdin ended: one `item.*` file per item the command read.
    static let copyStdin = #"cat > "$OUT/tmp.$$" && mv "$OUT/tmp.$$" "$(mktemp -u "$OUT/item.XXXXXXXXXX")""#

    @Test("3 processors with --spawn-ahead do 300 items and hostile ones (empty, NUL bytes, newlines, 200 kB, 8 MiB) each once, byte for byte, from stdin")
    func everyItemOnceByteForByte() throws {
        let s = try Scenario("ahead")
        try s.load(["--count", "300", "--quiet"])
        let odd: [[UInt8]] = [
            [],
            [0x00, 0x0A, 0xFF, 0x0D, 0x0A, 0x00],
            Array("line one\nline two\n".utf8),
            [UInt8](repeating: 0x41, count: 200_000),
            [UInt8](repeating: 0x42, count: 8 << 20),
        ]
        let publisher = try s.connect()
        defer { publisher.close() }
        try publisher.enableConfirms()
        for body in odd {
            try body.withUnsafeBytes { try publisher.publish(routingKey: s.queue, body: $0) }
        }
        try publisher.waitForConfirms()
        let processors = try s.startProcessors(3, ["--quiet", "--spawn-ahead", "--prefetch", "5", "--", "sh", "-c", Self.copyStdin])
        for p in processors {
            let r = try p.wait(timeout: 120)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stderr.contains("(0 failed)"), "\(r.output)")
        }
        let expected = (0..<300).map { Array(String($0).utf8) } + odd
        let sorted = { (items: [[UInt8]]) in items.sorted { $0.lexicographicallyPrecedes($1) } }
        // Exactly one empty copy: the empty item's; the commands started ahead for no item were
        // killed before they could read one.
        #expect(sorted(try copies(s)) == sorted(expected))
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("a command started ahead that exits before its item (it never reads stdin) is that item's result")
    func commandThatEndsBeforeItsItem() throws {
        let s = try Scenario("ahead-exit")
        try s.load(["--count", "20", "--quiet"])
        let r = try s.run("processor", ["--quiet", "--spawn-ahead", "--max-attempts", "1", "--", "sh", "-c", "exit 3"], timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("0 items (20 failed)"), "\(r.output)")
        #expect(try s.counts(s.failedQueue)?.ready == 20)
    }

    @Test("kill -9 of a processor with --spawn-ahead mid-item: another processor does every item; only the waiting command saw an empty input")
    func killNineMidItem() throws {
        let s = try Scenario("ahead-kill")
        try s.load(["--count", "20", "--quiet"])
        let slow = #"cat > "$OUT/tmp.$$" && sleep 0.2 && mv "$OUT/tmp.$$" "$(mktemp -u "$OUT/item.XXXXXXXXXX")""#
        let first = try s.start("processor", ["--quiet", "--spawn-ahead", "--", "sh", "-c", slow])
        try waitUntil("3 items done", timeout: 30) { try copies(s).count >= 3 }
        first.signal(SIGKILL)
        _ = try first.wait(timeout: 10)
        let second = try s.run("processor", ["--quiet", "--", "sh", "-c", slow], timeout: 60)
        #expect(second.status == 0, "\(second.output)")
        // Let what outlived the killed processor finish (outside a container, nothing kills it).
        Thread.sleep(forTimeInterval: 0.5)
        let done = try copies(s)
        // Nothing lost: every item done at least once (the one in hand when the processor died
        // may be done twice). Outside a container the command waiting ahead saw end of file when
        // its processor died, and ran once on an empty input: docs/processor.md says so.
        #expect(Set(done.filter { !$0.isEmpty }.map { String(decoding: $0, as: UTF8.self) }) == Set((0..<20).map(String.init)))
        #expect(done.filter(\.isEmpty).count <= 1, "\(done.count) copies")
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }

    @Test("SIGTERM to a processor with --spawn-ahead mid-item: it exits 143, the item in hand is returned, the waiting command never runs on an empty input")
    func sigtermMidItem() throws {
        let s = try Scenario("ahead-term")
        try s.load(["--count", "10", "--quiet"])
        let slow = #"cat > "$OUT/tmp.$$" && sleep 0.3 && mv "$OUT/tmp.$$" "$(mktemp -u "$OUT/item.XXXXXXXXXX")""#
        let processor = try s.start("processor", ["--quiet", "--spawn-ahead", "--grace", "0", "--", "sh", "-c", slow])
        try waitUntil("2 items done", timeout: 30) { try copies(s).count >= 2 }
        processor.signal(SIGTERM)
        let r = try processor.wait(timeout: 20)
        #expect(r.status == 143, "\(r.output)")
        Thread.sleep(forTimeInterval: 0.5)
        let done = try copies(s)
        #expect(!done.contains { $0.isEmpty }, "an empty input ran")
        // The items not done are back in the queue (the one in hand returned without an attempt;
        // one whose copy was made just before the SIGTERM reached its shell is both).
        let ready = try #require(try s.counts()?.ready)
        #expect(ready == 10 - done.count || ready == 11 - done.count, "\(ready) ready, \(done.count) done")
    }
}
