import Core
import Monitor
import Testing

/// An event of run `instance` of `pod`, with a histogram of `durations` (seconds, one item each).
private func run(
    _ pod: String, _ instance: String, seq: Int, processed: Int, failed: Int = 0, deadLettered: Int = 0,
    state: ProcessorState = .working, durations: [Double] = []
) -> ProgressEvent {
    var histogram = DurationHistogram()
    durations.forEach { histogram.record($0) }
    var e = ProgressEvent(
        queue: "jobs", pod: pod, instance: instance, state: state, processed: processed, failed: failed, inHand: 0,
        startedAt: 1000, sentAt: 1000 + Double(seq), rate: 0, seq: seq)
    e.deadLettered = deadLettered
    e.durations = durations.isEmpty ? nil : histogram.summary
    return e
}

@Suite("The metrics ledger: counters that never go backwards, pods' histograms added up, old pods' series dropped")
struct MetricsLedgerTests {
    @Test("a pod that restarts (a new run under the same name) adds to its pod's and the Job's counters, which never go back")
    func restartAddsUp() {
        var ledger = MetricsLedger()
        ledger.accept(run("pod-1", "a", seq: 1, processed: 10, failed: 2), at: at(0))
        ledger.accept(run("pod-1", "a", seq: 2, processed: 15, failed: 2), at: at(1))
        // Killed, replaced under the same name: the new run counts from 0 again.
        ledger.accept(run("pod-1", "b", seq: 1, processed: 3), at: at(2))
        ledger.accept(run("pod-2", "c", seq: 1, processed: 4, deadLettered: 1), at: at(2))
        #expect(ledger.job == MetricsLedger.Counts(processed: 22, failed: 2, retried: 0, deadLettered: 1))
        #expect(ledger.pods["pod-1"]?.counts.processed == 18)
        #expect(ledger.pods["pod-2"]?.counts.deadLettered == 1)
    }

    @Test("an older or repeated event of a run adds nothing (events can arrive late after a reconnect)")
    func olderEventsIgnored() {
        var ledger = MetricsLedger()
        ledger.accept(run("p", "a", seq: 5, processed: 50), at: at(0))
        ledger.accept(run("p", "a", seq: 4, processed: 40), at: at(1))
        ledger.accept(run("p", "a", seq: 5, processed: 50), at: at(1))
        #expect(ledger.job.processed == 50)
        #expect(ledger.events == 1)
    }

    @Test("the Job's histogram adds what each run's histogram grew by; cumulative buckets at 1 ms x 2^k end at the count")
    func histogramAddsUp() {
        var ledger = MetricsLedger()
        ledger.accept(run("p", "a", seq: 1, processed: 2, durations: [0.0005, 0.3]), at: at(0))
        ledger.accept(run("p", "a", seq: 2, processed: 3, durations: [0.0005, 0.3, 5]), at: at(1))
        ledger.accept(run("q", "b", seq: 1, processed: 1, durations: [0.3]), at: at(1))
        #expect(ledger.durationCount == 4)
        #expect(abs(ledger.durationSum - 5.6005) < 0.01)
        let buckets = ledger.cumulativeBuckets
        #expect(buckets.count == MetricsLedger.histogramDoublings + 1)
        #expect(buckets.first?.le == 0.001 && buckets.first?.count == 1)
        // 0.3 s lies below 0.512 (k = 9) and above 0.256 (k = 8).
        #expect(buckets[8].count == 1 && buckets[9].count == 3)
        #expect(buckets.last?.le == 2097.152 && buckets.last?.count == 4)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.count <= $1.count })
    }

    @Test("a pod silent for the retention while wqtop listened leaves the per-pod series; the Job keeps its counts")
    func oldPodsExpire() {
        var ledger = MetricsLedger()
        ledger.accept(run("old", "a", seq: 1, processed: 7, state: .finished), at: at(0))
        ledger.accept(run("new", "b", seq: 1, processed: 1), at: at(290))
        ledger.expire(at: at(299), listeningSince: at(0))
        #expect(ledger.pods.keys.sorted() == ["new", "old"])
        ledger.expire(at: at(301), listeningSince: at(0))
        #expect(ledger.pods.keys.sorted() == ["new"])
        #expect(ledger.job.processed == 8)
        // Not while wqtop was not listening: silence then says nothing.
        var deaf = MetricsLedger()
        deaf.accept(run("p", "a", seq: 1, processed: 1), at: at(0))
        deaf.expire(at: at(1000), listeningSince: nil)
        deaf.expire(at: at(1000), listeningSince: at(900))
        #expect(deaf.pods.count == 1)
    }

    @Test("10,000 short-lived pods over a day: the page keeps only the recent ones, the Job counts them all")
    func manyPodsBounded() {
        var ledger = MetricsLedger()
        for i in 0..<10_000 {
            let time = Double(i) * 8.64
            ledger.accept(run("pod-\(i)", "i\(i)", seq: 1, processed: 1, state: .finished), at: at(time))
            if i % 100 == 0 { ledger.expire(at: at(time), listeningSince: at(0)) }
        }
        #expect(ledger.job.processed == 10_000)
        #expect(ledger.pods.count <= 300 / 8 + 100)
    }

    @Test("items loaded add each load's highest count: a later event with a lower count takes nothing back")
    func loadedNeverGoesBack() {
        var ledger = MetricsLedger()
        #expect(ledger.loaded == nil)
        ledger.accept(LoadEvent(queue: "jobs", load: "L1", confirmed: 1000, startedAt: 1, sentAt: 2))
        ledger.accept(LoadEvent(queue: "jobs", load: "L2", confirmed: 700, startedAt: 1, sentAt: 2))
        ledger.accept(LoadEvent(queue: "jobs", load: "L1", confirmed: 10, startedAt: 1, sentAt: 3))
        #expect(ledger.loaded == 1700)
        ledger.accept(LoadEvent(queue: "jobs", load: "L1", confirmed: 1200, startedAt: 1, sentAt: 4))
        #expect(ledger.loaded == 1900)
    }

    @Test("per-pod series are capped: past 10,000 pods the longest silent go, the Job keeps every count")
    func podsCapped() {
        var ledger = MetricsLedger()
        for i in 0..<(MetricsLedger.maxPods + 10) {
            ledger.accept(run("pod-\(i)", "i\(i)", seq: 1, processed: 1), at: at(Double(i) / 1000))
        }
        #expect(ledger.pods.count <= MetricsLedger.maxPods)
        #expect(ledger.pods["pod-\(MetricsLedger.maxPods + 9)"] != nil && ledger.pods["pod-0"] == nil)
        #expect(ledger.job.processed == MetricsLedger.maxPods + 10)
    }

    @Test("the model's snapshot carries the figures only when asked to keep them")
    func modelKeepsFiguresWhenAsked() {
        var plain = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        var serving = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1), keepsMetrics: true)
        plain.receive(run("p", "a", seq: 1, processed: 3), at: at(0))
        serving.receive(run("p", "a", seq: 1, processed: 3), at: at(0))
        #expect(plain.snapshot(at: at(0)).metrics == nil)
        #expect(serving.snapshot(at: at(0)).metrics?.job.processed == 3)
    }
}

@Suite("An exporter that runs for days: the model forgets runs long silent, so new pods keep being followed")
struct LongRunningExporterTests {
    @Test("20,000 short pods over a day with --serve: none turned away as a bad event, the page counts them all, few kept")
    func followsPastMaxPods() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1), keepsMetrics: true, forgetsOldRuns: true)
        model.link.listening(since: at(0))
        for i in 0..<20_000 {
            let time = Double(i) * 4.32
            model.receive(event("pod-\(i)", .finished, processed: 1, seq: 1, exitCode: 0), at: at(time))
            if i % 50 == 0 { model.sample(QueueCounts(ready: 0, consumers: 0), at: at(time)) }
        }
        let s = model.snapshot(at: at(86_400))
        #expect(s.badEvents == 0)
        #expect(s.metrics?.job.processed == 20_000)
        #expect(s.pods.count < 200, "\(s.pods.count) runs kept")
    }
}
