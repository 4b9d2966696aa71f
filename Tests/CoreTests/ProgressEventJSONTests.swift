import FoundationEssentials
import Testing

import Core

@Suite("Progress events written by hand: the bytes JSONEncoder would write")
struct ProgressEventJSONTests {
    func events() -> [ProgressEvent] {
        var h = DurationHistogram()
        for d in [0.0004, 0.012, 0.3, 0.31, 2.5, 1e-7] { h.record(d) }
        var full = ProgressEvent(
            queue: "jobs/ünï \"q\"", pod: "pod\\1\n\t\u{1}\u{7F}", instance: "9f3a2c41", state: .waitingForOthers, exitCode: -3,
            processed: 624, failed: 2, retried: 1, deadLettered: 1, inHand: 3, current: "s3://bucket/a b/🚀.png",
            runningFor: 0.112, durations: h.summary, startedAt: 1_795_919_301.2, sentAt: 1_795_919_315.75, rate: 47.2, seq: 14)
        full.v = 1
        let bare = ProgressEvent(queue: "q", pod: "p", instance: "i", state: .starting, startedAt: 1_795_919_301, sentAt: 1_795_919_301)
        var odd = bare
        odd.rate = 1e-5
        odd.runningFor = 123_456.000_001
        odd.startedAt = 0.1
        odd.consumerTimeoutMS = 5000
        return [full, bare, odd]
    }

    @Test("each event's bytes equal JSONEncoder's with sorted keys, and decode back to the event")
    func sameBytes() throws {
        for event in events() {
            let mine = event.encoded()
            #expect(String(decoding: mine, as: UTF8.self) == String(decoding: JSONLine.encode(event), as: UTF8.self))
            #expect(try JSONDecoder().decode(ProgressEvent.self, from: Data(mine)) == event)
        }
    }
}
