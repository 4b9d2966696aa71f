#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Testing

import Core
import Platform
import Monitor

/// A processor's event with the counts a receipt adds up; sent at 1000 + `seq` (Unix seconds).
private func counts(
    _ pod: String, _ state: ProcessorState, processed: Int, deadLettered: Int = 0, retried: Int = 0, failed: Int = 0,
    inHand: Int = 0, seq: Int = 0, exitCode: Int32? = nil, notes: RepeatLedger<Int>.Notes? = .init()
) -> ProgressEvent {
    var event = ProgressEvent(
        queue: "jobs", pod: pod, instance: "id-\(pod)", state: state, exitCode: exitCode, processed: processed, failed: failed,
        retried: retried, deadLettered: deadLettered, inHand: inHand, startedAt: 1000, sentAt: 1000 + Double(seq), seq: seq)
    if let notes {
        func hex(_ keys: [UInt64]) -> [String]? { keys.isEmpty ? nil : keys.map(ItemKey.hex) }
        event.unsettled = notes.unsettled.map(ItemKey.hex)
        event.copying = hex(notes.copying)
        event.redelivered = hex(notes.redelivered)
        event.copies = hex(notes.copies)
        event.omitted = notes.omitted > 0 ? notes.omitted : nil
    }
    return event
}

/// A model that saw one load of `loaded` items, then `events` at monotonic time 0, and a last
/// sample of `ready` items at `time`.
private func model(loaded: Int?, _ events: [ProgressEvent], ready: Int = 0, time: Double = 1) -> MonitorModel {
    var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
    if let loaded {
        model.receive(LoadEvent(queue: "jobs", load: "l1", confirmed: loaded, final: true, startedAt: 990, sentAt: 995))
    }
    model.sample(QueueCounts(ready: loaded ?? 0, consumers: 0), at: at(0))
    for event in events { model.receive(event, at: at(0)) }
    model.sample(QueueCounts(ready: ready, consumers: 0), at: at(time))
    return model
}

/// The keys of a JSON object, read back from the encoded receipt.
private struct Keys: Decodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    struct Top: Decodable {
        var top: Keys
        var pods: [Keys]
        var reconciliation: Keys
        init(from decoder: any Decoder) throws {
            top = try Keys(from: decoder)
            let c = try decoder.container(keyedBy: Key.self)
            pods = try c.decode([Keys].self, forKey: Key(stringValue: "pods"))
            reconciliation = try c.decode(Keys.self, forKey: Key(stringValue: "reconciliation"))
        }
    }
    var names: Set<String>
    init(from decoder: any Decoder) throws {
        names = Set(try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue))
    }
}

@Suite("wqtop's receipt: the Job's counts from events as data, and whether they add up")
struct ReceiptTests {
    @Test("loaded = processed + dead-lettered + queued: balanced, finished, per-pod counts kept")
    func balanced() {
        let m = model(loaded: 300, [
            counts("a", .finished, processed: 180, deadLettered: 10, retried: 12, failed: 22, seq: 0, exitCode: 0),
            counts("b", .finished, processed: 110, retried: 3, failed: 3, seq: 0, exitCode: 0),
        ])
        let r = Receipt(snapshot: m.snapshot(at: at(1), wallTime: 1010), endedAt: 1010, endedBy: "drained", deadLetterQueueDepth: 10)
        #expect(r.finished)
        #expect(r.loaded.value == 300)
        #expect((r.processed, r.deadLettered, r.retried, r.failedAttempts, r.queued) == (290, 10, 15, 25, 0))
        #expect(r.reconciliation.accounted == 300)
        #expect(r.reconciliation.difference.value == 0)
        #expect(r.reconciliation.balanced)
        #expect(r.reconciliation.explanation.hasPrefix("balanced"))
        #expect(r.startedAt == 990, "the load began before the processors")
        #expect(r.elapsedSeconds == 20)
        #expect(r.pods.map(\.pod) == ["a", "b"])
        #expect(r.pods[0].retried == 12)
        #expect(r.pods[0].exitCode.value == 0)
        #expect(r.pods[0].firstSeenAt == 1000 && r.pods[0].lastSeenAt == 1000)
        #expect(r.reconciliation.exact && r.reconciliation.doubts.isEmpty && r.reconciliation.repeats == 0)
        #expect(r.deadLetterQueueDepth.value == 10)
    }

    @Test("processed above loaded, with no repeat noted, is a surplus: items queued without a load event")
    func surplus() {
        let m = model(loaded: 100, [counts("a", .finished, processed: 103, seq: 0, exitCode: 0)])
        let r = Receipt(snapshot: m.snapshot(at: at(1), wallTime: 1010), endedAt: 1010, endedBy: "drained", deadLetterQueueDepth: nil)
        #expect(r.reconciliation.difference.value == 3)
        #expect(r.reconciliation.exact)
        #expect(!r.reconciliation.balanced)
        #expect(r.reconciliation.explanation.contains("queued without a load event"))
        #expect(r.deadLetterQueueDepth.value == nil)
    }

    @Test("a deficit names the pods lost without a final event; queued items count as accounted for")
    func deficitWithLostPod() {
        var m = model(loaded: 100, [
            counts("a", .finished, processed: 50, seq: 3, exitCode: 0),
            counts("b", .working, processed: 30, inHand: 4, seq: 2),
        ], ready: 5, time: 10)
        m.sample(QueueCounts(ready: 5, consumers: 0), at: at(10))
        let r = Receipt(snapshot: m.snapshot(at: at(10), wallTime: 1010), endedAt: 1010, endedBy: "SIGTERM", deadLetterQueueDepth: 0)
        #expect(!r.finished)
        #expect(r.queued == 5, "the lost pod's items in hand are back in the queue, not in flight")
        #expect(r.reconciliation.accounted == 85)
        #expect(r.reconciliation.difference.value == -15)
        #expect(r.reconciliation.explanation.contains("15 items unaccounted for"))
        #expect(r.reconciliation.explanation.contains("lost without a final event: b (id-b)"))
        #expect(r.pods.first { $0.pod == "b" }?.state == "lost")
        #expect(r.pods.first { $0.pod == "b" }?.lost == true)
    }

    @Test("without a load event nothing is reconciled: loaded and difference are null, not balanced")
    func withoutLoads() {
        let m = model(loaded: nil, [counts("a", .finished, processed: 7, seq: 1, exitCode: 0)])
        let r = Receipt(snapshot: m.snapshot(at: at(1), wallTime: 1010), endedAt: 1010, endedBy: "quit", deadLetterQueueDepth: nil)
        #expect(r.loaded.value == nil && r.reconciliation.difference.value == nil)
        #expect(!r.reconciliation.balanced)
        #expect(r.reconciliation.explanation.contains("no load event"))
    }

    @Test("the file holds snake_case fields, v 2 and nulls; written atomically, no temporary file left")
    func fieldNames() throws {
        let directory = "/tmp/wq-receipt-test-\(getpid())"
        mkdir(directory, 0o755)
        defer { rmdir(directory) }
        let path = "\(directory)/receipt.json"
        let file = try ReceiptFile(checking: path)
        let m = model(loaded: nil, [counts("a", .finished, processed: 1, seq: 1, exitCode: 0)])
        try file.write(Receipt(snapshot: m.snapshot(at: at(1), wallTime: 1010), endedAt: 1010, endedBy: "drained", deadLetterQueueDepth: nil))
        try file.write(Receipt(snapshot: m.snapshot(at: at(1), wallTime: 1011), endedAt: 1011, endedBy: "drained", deadLetterQueueDepth: nil))
        let bytes = try #require(FileBytes.read(path: path))
        unlink(path)
        let text = String(decoding: bytes, as: UTF8.self)
        let keys = try JSONDecoder().decode(Keys.Top.self, from: Data(bytes))
        #expect(keys.top.names == [
            "v", "queue", "finished", "ended_by", "started_at", "ended_at", "elapsed_seconds", "loaded", "processed",
            "dead_lettered", "retried", "failed_attempts", "queued", "ready", "in_flight", "dead_letter_queue_depth", "durations",
            "pods", "bad_events", "reconciliation",
        ])
        #expect(keys.pods.first?.names == [
            "pod", "instance", "state", "lost", "exit_code", "processed", "failed", "retried", "dead_lettered", "started_at",
            "first_seen_at", "last_seen_at", "durations",
        ])
        #expect(keys.reconciliation.names == [
            "loaded", "counted", "repeats", "accounted", "difference", "exact", "doubts", "balanced", "explanation",
        ])
        #expect(text.contains(#""v" : 2"#))
        #expect(text.contains(#""loaded" : null"#))
        #expect(text.contains(#""dead_letter_queue_depth" : null"#))
        #expect(text.contains(#""ended_at" : 1011"#))
        #expect(text.hasSuffix("}\n"))
    }

    @Test("a receipt path that cannot be written is a usage error at start (64), not a crash at the end")
    func unwritablePath() {
        for path in ["/nonexistent-dir/receipt.json", "/tmp", ""] {
            #expect(throws: WorkQueueError.self) { try ReceiptFile(checking: path) }
            do {
                _ = try ReceiptFile(checking: path)
            } catch let error as WorkQueueError {
                #expect(error.exitCode == ExitCode.usage)
                #expect(error.message.contains("receipt"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("--json frames carry retried and each pod's retried, first and last seen")
    func jsonFrames() {
        let m = model(loaded: 10, [counts("a", .finished, processed: 10, retried: 2, seq: 4, exitCode: 0)])
        let line = m.snapshot(at: at(1), wallTime: 1010).jsonLine(time: 1010)
        #expect(line.contains(#""retried":2"#))
        #expect(line.contains(#""first_seen_at":1004"#))
        #expect(line.contains(#""last_seen_at":1004"#))
        #expect(line.contains(#""started_at":1000"#))
    }
}
