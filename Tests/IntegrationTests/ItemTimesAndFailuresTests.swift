import Foundation
import Core
import TestSupport
import Testing

/// The fields of a `wqtop --json` line about item durations, stragglers and failures.
private struct TimesLine: Decodable {
    struct Durations: Decodable {
        var count: Int
        var p50: Double
        var p95: Double
        var max: Double
    }

    struct Pod: Decodable {
        var pod: String
        var current: String?
        var running_seconds: Double?
        var straggler: Bool
        var durations: Durations?
    }

    struct Failure: Decodable {
        var pod: String
        var item: String
        var attempt: Int
        var max_attempts: Int
        var outcome: String
        var reason: String
        var exit_status: Int?
    }

    var finished: Bool
    var durations: Durations?
    var straggler_after_seconds: Double
    var stragglers: Int
    var failures: [Failure]
    var failure_events: Int
    var pods: [Pod]
}

@Suite("wqtop shows item durations, stragglers and failed attempts from a real processor", .serialized)
struct ItemTimesAndFailuresTests {
    @Test("a slow item shows as a straggler while it runs; every failed attempt arrives with its reason and exit status")
    func stragglerAndFailures() throws {
        let s = try Scenario("monitor-times")
        try s.load(["--quiet", "slow"] + (1...30).map { "ok-\($0)" } + (1...3).map { "bad-\($0)" })
        let monitor = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.3"])
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        let work = #"case "$WORK_ITEM" in slow) sleep 4;; bad*) exit 3;; *) sleep 0.02;; esac"#
        let processor = try s.start(
            "processor", ["--quiet", "--concurrency", "2", "--max-attempts", "2", "--", "sh", "-c", work], adding: ["POD_NAME": "pod-times"])
        let drained = try processor.wait(timeout: 60)
        #expect(drained.status == 0, "\(drained.output)")
        let end = try monitor.wait(timeout: 30)
        #expect(end.status == 0, "\(end.output)")
        let lines = try end.stdout.split(separator: "\n").map { try JSONDecoder().decode(TimesLine.self, from: Data($0.utf8)) }
        let last = try #require(lines.last)
        #expect(last.finished)

        // While "slow" ran, past 3x the p95 of the short items (at least 1 s), it was a straggler.
        let straggling = lines.compactMap { line in line.pods.first { $0.straggler }.map { (line, $0) } }
        let (frame, pod) = try #require(straggling.first, "no frame showed a straggler")
        #expect(pod.current == "slow" && (pod.running_seconds ?? 0) >= frame.straggler_after_seconds)
        #expect(frame.stragglers == 1 && frame.straggler_after_seconds >= 1 && frame.straggler_after_seconds < 4)
        #expect(last.stragglers == 0 && last.pods.allSatisfy { $0.running_seconds == nil })

        // 31 items succeeded and the 3 bad ones failed twice: 37 durations.
        let durations = try #require(last.durations)
        #expect(durations.count == 37)
        #expect(durations.p50 >= 0.01 && durations.p50 < 1, "p50 \(durations.p50)")
        #expect(durations.max >= 3.5 && durations.max < 10, "max \(durations.max)")
        #expect(last.pods.first?.durations?.count == 37)

        // Six failed attempts, each told once: first a retry, then a dead letter, with the exit status.
        #expect(last.failure_events == 6)
        #expect(last.failures.count == 6)
        for failure in last.failures {
            #expect(failure.pod == "pod-times" && failure.item.hasPrefix("bad-") && failure.exit_status == 3 && failure.max_attempts == 2)
            #expect(failure.reason.contains("3"), "\(failure.reason)")
            #expect(failure.outcome == (failure.attempt == 1 ? "retry" : "dead-letter"))
        }
        #expect(Set(last.failures.filter { $0.outcome == "dead-letter" }.map(\.item)) == ["bad-1", "bad-2", "bad-3"])
    }
}
