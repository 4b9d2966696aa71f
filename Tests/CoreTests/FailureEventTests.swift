import Testing

import Core

@Suite("Failure events: one per failed attempt, screened like every event")
struct FailureEventTests {
    let now = 1_800_000_000.0

    func failure() -> FailureEvent {
        FailureEvent(
            queue: "jobs", pod: "pod-1", instance: "9f3a", item: "file-7.png", attempt: 2, maxAttempts: 3, outcome: .retry,
            reason: "exited with status 3", exitStatus: 3, sentAt: now)
    }

    @Test("a failure event as a processor sends it reaches the reader unchanged")
    func realEventAccepted() {
        let bytes = failure().encoded()
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""kind":"failure""#))
        #expect(ProgressEvent.screen(bytes, wallTime: now) == .failure(failure(), cut: false))
        var dead = failure()
        dead.outcome = .deadLetter
        dead.exitStatus = nil
        #expect(String(decoding: dead.encoded(), as: UTF8.self).contains(#""outcome":"dead-letter""#))
        #expect(ProgressEvent.screen(dead.encoded(), wallTime: now) == .failure(dead, cut: false))
    }

    @Test("absurd attempts, exit statuses and times are rejected; strings are cleaned and cut")
    func hostile() {
        var e = failure()
        e.attempt = 0
        #expect(e.screened() == .rejected("attempt 0 of 3 out of range"))
        e = failure()
        e.attempt = 4
        #expect(e.screened() == .rejected("attempt 4 of 3 out of range"))
        e = failure()
        e.exitStatus = -1
        #expect(e.screened() == .rejected("exit_status -1 out of 0...65535"))
        e = failure()
        e.sentAt = .infinity
        #expect(e.screened() == .rejected("sent_at is not a Unix time"))
        e = failure()
        e.skipped = -2
        #expect(e.screened() == .rejected("skipped -2 out of 0...1000000000000"))
        e = failure()
        e.reason = "boom\u{1B}[2J" + String(repeating: "é", count: 300)
        e.item = "a\nb"
        guard case .failure(let clean, let cut) = e.screened() else {
            Issue.record("a long reason is cut, not dropped")
            return
        }
        #expect(cut && clean.item == "a?b" && clean.reason.hasPrefix("boom?[2J") && clean.reason.utf8.count <= 256)
        #expect(ProgressEvent.screen(Array(#"{"v":1,"kind":"failure","queue":"jobs"}"#.utf8))
            == .rejected("not a version-1 failure event (a wrong type or a missing field)"))
        #expect(ProgressEvent.screen(Array(#"{"v":1,"kind":"gossip"}"#.utf8)) == .rejected("unknown kind of event"))
    }

    @Test("a progress event's durations and running time are checked too")
    func progressDurations() {
        var h = DurationHistogram()
        h.record(0.2)
        var e = ProgressEvent(
            queue: "jobs", pod: "p", instance: "i", state: .working, processed: 1, current: "x", runningFor: 2.5,
            durations: h.summary, startedAt: now - 10, sentAt: now, seq: 1)
        #expect(ProgressEvent.screen(e.encoded(), wallTime: now) == .accepted(e, cut: false))
        e.runningFor = -1
        #expect(e.screened() == .rejected("running_for -1.0 s in a run of 10.0 s"))
        e.runningFor = 1e9
        #expect(e.screened() == .rejected("running_for 1000000000.0 s in a run of 10.0 s"))
        e.runningFor = nil
        e.durations?.count = 7
        #expect(e.screened() == .rejected("duration buckets add up to 1, not count 7"))
    }
}
