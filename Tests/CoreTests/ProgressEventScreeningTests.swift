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

    @Test("consumer_timeout_ms is optional: an event without it (older processors) is accepted; one out of bounds is rejected")
    func consumerTimeoutField() {
        let old = Array(#"{"dead_lettered":0,"failed":0,"in_hand":1,"instance":"9f3a2c41","pod":"pod-1","processed":624,"queue":"jobs","rate":47.2,"retried":0,"sent_at":1800000000,"seq":14,"started_at":1799999986,"state":"working","v":1}"#.utf8)
        guard case .accepted(let decoded, cut: false) = ProgressEvent.screen(old, wallTime: now) else {
            Issue.record("an event without consumer_timeout_ms was not accepted")
            return
        }
        #expect(decoded.consumerTimeoutMS == nil)
        var e = event()
        e.consumerTimeoutMS = 5000
        #expect(String(decoding: e.encoded(), as: UTF8.self).hasPrefix(#"{"consumer_timeout_ms":5000,"#))
        #expect(ProgressEvent.screen(e.encoded(), wallTime: now) == .accepted(e, cut: false))
        e.consumerTimeoutMS = 0
        #expect(ProgressEvent.screen(e.encoded(), wallTime: now) == .rejected("consumer_timeout_ms 0 out of 1...31622400000"))
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

    @Test("notes that are not 16 hex digits, or too many keys, drop the event as bad")
    func hostileNotes() {
        var e = ProgressEvent(queue: "jobs", pod: "p", instance: "i", state: .working, startedAt: 1000, sentAt: 1001)
        e.unsettled = ["0123456789ABCDEF"]
        #expect(e.screened() == .rejected("a key in the repeat notes is not 16 hex digits"))
        e.unsettled = Array(repeating: "0123456789abcdef", count: 1001)
        #expect(e.screened() == .rejected("1001 keys in the repeat notes, more than 1000"))
        e.unsettled = ["0123456789abcdef"]
        e.omitted = -1
        #expect(e.screened() == .rejected("omitted -1 out of 0...1000000000000"))
        e.omitted = nil
        e.redelivered = ["0123456789abcdef"]
        #expect(e.screened() == .rejected("more keys in redelivered, copies or orphans_back than their totals say"))
        e.redeliveredSeen = 1
        guard case .accepted = e.screened() else { return #expect(Bool(false)) }
    }
}
