import Testing

import Core

@Suite("Progress event screening: the bounds a reader holds events to")
struct ProgressEventScreeningTests {
    let now = 1_800_000_000.0

    func event() -> ProgressEvent {
        ProgressEvent(
            queue: "jobs", pod: "pod-1", instance: "9f3a2c41", state: .working, processed: 624, inHand: 1, current: "3117",
            startedAt: now - 14, sentAt: now, rate: 47.2, seq: 14)
    }

    @Test("an event as a processor publishes it is accepted unchanged")
    func realEventAccepted() {
        #expect(ProgressEvent.screen(event().encoded(), wallTime: now) == .accepted(event(), cut: false))
    }

    @Test("another version is foreign, not bad; broken messages are rejected with a reason")
    func foreignAndRejected() {
        var future = event()
        future.v = 2
        #expect(ProgressEvent.screen(future.encoded()) == .foreign)
        #expect(ProgressEvent.screen(Array(#"{"v":2,"anything":[]}"#.utf8)) == .foreign)
        #expect(ProgressEvent.screen([]) == .rejected("empty message"))
        #expect(ProgressEvent.screen([0xFF, 0x7B]) == .rejected("not UTF-8"))
        var e = event()
        e.processed = Int.max
        #expect(ProgressEvent.screen(e.encoded()) == .rejected("processed \(Int.max) out of 0...1000000000000"))
        e = event()
        e.sentAt = now + 2 * 86_400
        e.startedAt = e.sentAt - 1
        #expect(e.screened(wallTime: now) == .rejected("sent_at \(e.sentAt) more than a day from now"))
        #expect(e.screened() == .accepted(e, cut: false), "without a clock to compare, only its own times are checked")
    }

    @Test("strings are cut to 256 UTF-8 bytes on a character boundary and made printable")
    func stringsCutAndCleaned() {
        var e = event()
        e.pod = String(repeating: "ab", count: 200)
        e.current = "x\u{1B}[2J\u{202E}y"
        guard case .accepted(let clean, let cut) = e.screened() else {
            Issue.record("rejected")
            return
        }
        #expect(cut)
        #expect(clean.pod.utf8.count == ProgressEvent.Limits.string)
        #expect(clean.current == "x?[2J?y")
    }
}
