import Testing

import Core
import Monitor

/// wqtop's wall clock in these tests (Unix seconds).
private let wall = 1_800_000_000.0

/// A version-1 event as raw JSON, each field given as JSON text; `fields` replace or add fields
/// (a nil value removes one).
private func message(_ fields: [String: String?] = [:]) -> [UInt8] {
    var all: [String: String?] = [
        "v": "1", "queue": "\"jobs\"", "pod": "\"good\"", "instance": "\"g1\"", "state": "\"working\"",
        "exit_code": "null", "processed": "10", "failed": "0", "retried": "0", "dead_lettered": "0", "in_hand": "1",
        "current": "\"item-7\"", "started_at": "\(wall - 10)", "sent_at": "\(wall)", "rate": "5", "seq": "1",
    ]
    for (key, value) in fields { all[key] = value }
    let body = all.compactMap { key, value in value.map { "\"\(key)\":\($0)" } }.sorted().joined(separator: ",")
    return Array("{\(body)}".utf8)
}

/// One hostile message and what it is.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var testDescription: String { name }
}

private let hostileCases: [HostileCase] = [
    HostileCase(name: "rate 1e300", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "rate": "1e300"])),
    HostileCase(name: "rate with a huge exponent (1e999)", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "rate": "1e999"])),
    HostileCase(name: "rate \"NaN\" (JSON has no NaN)", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "rate": "\"NaN\""])),
    HostileCase(name: "negative rate", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "rate": "-3"])),
    HostileCase(name: "processed Int64.max", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "processed": "9223372036854775807"])),
    HostileCase(name: "processed beyond Int64", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "processed": "92233720368547758070"])),
    HostileCase(name: "processed 1e300", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "processed": "1e300"])),
    HostileCase(name: "in_hand Int64.max", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "in_hand": "9223372036854775807"])),
    HostileCase(name: "negative processed", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "processed": "-5"])),
    HostileCase(name: "negative failed", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "failed": "-1"])),
    HostileCase(name: "seq Int64.max", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "seq": "9223372036854775807"])),
    HostileCase(name: "a billion processed one second after start", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "processed": "1000000000", "started_at": "\(wall - 1)"])),
    HostileCase(name: "processed \"ten\" (a wrong type)", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "processed": "\"ten\""])),
    HostileCase(name: "state unknown", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "state": "\"dancing\""])),
    HostileCase(name: "pod missing", bytes: message(["pod": nil, "instance": "\"h1\""])),
    HostileCase(name: "empty instance", bytes: message(["pod": "\"h\"", "instance": "\"\""])),
    HostileCase(name: "an array instead of an object", bytes: Array("[1,2,3]".utf8)),
    HostileCase(name: "an empty body", bytes: []),
    HostileCase(name: "not JSON", bytes: Array("hello".utf8)),
    HostileCase(name: "binary bytes (invalid UTF-8)", bytes: [0xFF, 0xFE, 0x00, 0x80, 0xC3, 0x28, 0x1B, 0x5B]),
    HostileCase(name: "invalid UTF-8 inside a string", bytes: message(["pod": "\"h\"", "instance": "\"h1\""]).replacing(Array("item-7".utf8), with: [0xFF, 0xC3, 0x28])),
    HostileCase(name: "a 1 MiB pod name", bytes: message(["pod": "\"" + String(repeating: "x", count: 1 << 20) + "\"", "instance": "\"h1\""])),
    HostileCase(name: "sent ten days in the future", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "sent_at": "\(wall + 864_000)", "started_at": "\(wall + 863_990)"])),
    HostileCase(name: "started at 0 (1970)", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "started_at": "0"])),
    HostileCase(name: "started after it was sent", bytes: message(["pod": "\"h\"", "instance": "\"h1\"", "started_at": "\(wall + 3600)"])),
]

@Suite("wqtop and hostile or broken progress events: dropped, cut or kept apart, and counted")
struct HostileEventTests {
    /// A model that saw a sane pod "good" (10 processed, 1 in hand) and then `bytes`.
    func model(after bytes: [UInt8]...) -> MonitorModel {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(QueueCounts(ready: 100, consumers: 2), at: at(0))
        model.receive(message(), at: at(0.5), wallTime: wall)
        for b in bytes { model.receive(b, at: at(0.6), wallTime: wall) }
        model.sample(QueueCounts(ready: 100, consumers: 2), at: at(1))
        return model
    }

    /// The 80x24 frame, checked for size and for numbers no real Job has.
    func frame(_ s: MonitorSnapshot) -> [String] {
        let lines = Renderer(width: 80, height: 24).frame(s, view: ViewState())
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.width <= 80 })
        let text = lines.map(\.text)
        #expect(!text.joined().contains("e+") && !text.joined().contains("nan") && !text.joined().contains("inf"))
        #expect(!text.joined().contains("\u{1B}"))
        return text
    }

    @Test("each hostile message is dropped and counted; the sane pod's numbers stand", arguments: hostileCases)
    func hostileMessageIsDropped(_ hostile: HostileCase) {
        let s = model(after: hostile.bytes).snapshot(at: at(1), wallTime: wall)
        #expect(s.badEvents == 1)
        #expect(s.pods.map(\.pod) == ["good"])
        #expect(s.processed == 10 && s.inFlight == 1 && s.failed == 0)
        #expect(s.rateNow == 10, "10 items over the 1 s sampled")
        #expect(abs((s.eta ?? 0) - 10.1) < 0.001, "101 left at 10/s")
        #expect(s.elapsed == 10)
        let text = frame(s)
        #expect(text[1].contains("Processed 10 ") && text[2].contains("ETA 10s"))
        #expect(text[6].hasSuffix("bad events: 1 "))
        #expect(s.jsonLine(time: wall).contains("\"bad_events\":1,"))
    }

    @Test("the same hostile message again counts again; good events of other versions are ignored uncounted")
    func countsAddUpAndOtherVersionsAreIgnored() {
        let bad = message(["pod": "\"h\"", "instance": "\"h1\"", "rate": "1e300"])
        let s = model(after: bad, bad, message(["v": "2", "pod": "\"new\""]), message(["queue": "\"elsewhere\"", "pod": "\"other\""]))
            .snapshot(at: at(1), wallTime: wall)
        #expect(s.badEvents == 2)
        #expect(s.pods.map(\.pod) == ["good"])
        #expect(s.jsonLine(time: wall).contains("\"bad_events\":2,"))
    }

    @Test("a sane model has no bad events and no note")
    func noBadEventsNoNote() {
        let s = model().snapshot(at: at(1), wallTime: wall)
        #expect(s.badEvents == 0)
        #expect(frame(s)[6].allSatisfy { $0 == " " })
        #expect(s.jsonLine(time: wall).contains("\"bad_events\":0,"))
    }

    @Test("a long pod name and item are cut to 256 bytes and counted; control characters become '?' uncounted")
    func longStringsAreCut() {
        let long = String(repeating: "é", count: 1000)
        let s = model(after: message(["pod": "\"\(long)\"", "instance": "\"h1\"", "current": "\"a\\u001b[31mb\\u202ec\\td\""]))
            .snapshot(at: at(1), wallTime: wall)
        #expect(s.badEvents == 1)
        let pod = s.pods.first { $0.instance == "h1" }
        #expect(pod?.pod == String(repeating: "é", count: 128))
        #expect(pod?.current == "a?[31mb?c?d")
        #expect(s.processed == 20)
        _ = frame(s)
        // Control characters alone are not bad: items may hold tabs.
        let tabs = model(after: message(["pod": "\"t\"", "instance": "\"t1\"", "current": "\"a\\tb\""])).snapshot(at: at(1), wallTime: wall)
        #expect(tabs.badEvents == 0 && tabs.pods.map(\.current) == ["item-7", "a?b"])
    }

    @Test("two pods sharing an instance id are kept apart and counted once")
    func sharedInstanceIdsStayApart() {
        let a = { (seq: Int) in message(["pod": "\"a\"", "instance": "\"dup\"", "processed": "3", "seq": "\(seq)"]) }
        let b = { (seq: Int) in message(["pod": "\"b\"", "instance": "\"dup\"", "processed": "4", "seq": "\(seq)"]) }
        // One pod name and one instance id, but another start: a second run claiming the same id.
        let c = message(["pod": "\"a\"", "instance": "\"dup\"", "processed": "5", "started_at": "\(wall - 5)"])
        let s = model(after: a(1), b(1), a(2), b(2), c).snapshot(at: at(1), wallTime: wall)
        #expect(s.pods.map(\.pod) == ["a", "a", "b", "good"])
        #expect(s.processed == 10 + 3 + 4 + 5)
        #expect(s.badEvents == 2, "b, then the second run of a; their later events are not counted again")
        _ = frame(s)
    }

    @Test("typed events go through the same checks")
    func typedEventsAreScreenedToo() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        var e = ProgressEvent(queue: "jobs", pod: "p", instance: "i", state: .working, processed: 1, startedAt: wall - 1, sentAt: wall, rate: .nan)
        model.receive(e, at: at(0))
        e.rate = .infinity
        model.receive(e, at: at(0))
        e.rate = 1
        e.inHand = -1
        model.receive(e, at: at(0))
        #expect(model.badEvents == 3)
        #expect(model.snapshot(at: at(0)).pods.isEmpty)
        let huge = ProgressEvent.screen(Array(repeating: UInt8(ascii: " "), count: ProgressEvent.Limits.bytes + 1))
        #expect(huge == .rejected("16385 bytes, more than 16384"))
    }
}

extension Array where Element == UInt8 {
    /// The bytes with the first occurrence of `part` replaced.
    fileprivate func replacing(_ part: [UInt8], with other: [UInt8]) -> [UInt8] {
        guard let start = indices.first(where: { self[$0...].starts(with: part) }) else { return self }
        return Array(self[..<start]) + other + Array(self[(start + part.count)...])
    }
}
