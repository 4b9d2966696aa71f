import Core

/// The counts `wqtop --serve` exports, kept so that they only ever grow: each processor run's
/// latest cumulative counts are a baseline, and only what a newer event adds to them is added to
/// the Job's totals, to its pod's and to the Job's item-duration histogram. A pod that restarts
/// (a new run under the same name) adds to its pod's counters instead of starting them again.
/// A pod's own series are dropped once it has been silent for `podRetention` while wqtop
/// listened (it finished or was lost long ago), so a day of short-lived pods does not grow the
/// page; the Job's totals keep what those pods did.
package struct MetricsLedger: Sendable {
    /// Counts that only grow.
    package struct Counts: Sendable, Equatable {
        package var processed = 0
        package var failed = 0
        package var retried = 0
        package var deadLettered = 0

        package init(processed: Int = 0, failed: Int = 0, retried: Int = 0, deadLettered: Int = 0) {
            self.processed = processed
            self.failed = failed
            self.retried = retried
            self.deadLettered = deadLettered
        }

        init(_ event: ProgressEvent) {
            self.init(processed: event.processed, failed: event.failed, retried: event.retried, deadLettered: event.deadLettered)
        }

        /// What `newer` adds to these counts (0 where it says less).
        func added(by newer: Counts) -> Counts {
            Counts(
                processed: max(0, newer.processed - processed), failed: max(0, newer.failed - failed),
                retried: max(0, newer.retried - retried), deadLettered: max(0, newer.deadLettered - deadLettered))
        }

        static func += (a: inout Counts, b: Counts) {
            a.processed += b.processed
            a.failed += b.failed
            a.retried += b.retried
            a.deadLettered += b.deadLettered
        }

        /// The larger of each count.
        func highest(_ other: Counts) -> Counts {
            Counts(
                processed: max(processed, other.processed), failed: max(failed, other.failed),
                retried: max(retried, other.retried), deadLettered: max(deadLettered, other.deadLettered))
        }
    }

    /// A run's latest event as a baseline.
    private struct Run: Sendable {
        var seq: Int
        var counts: Counts
        var buckets: [Int: Int]
        var sum: Double
        var heard: Instant
    }

    /// A pod's exported series.
    package struct PodSeries: Sendable, Equatable {
        package var counts = Counts()
        /// When (monotonic) any of its runs was last heard.
        package var heard: Instant
    }

    /// Silence (while listening) after which a pod's series leave the page.
    package static let podRetention: Duration = .seconds(300)
    /// Runs whose baselines are kept; past this the longest silent go (a run heard again after
    /// that would count from zero).
    package static let maxRuns = 100_000

    /// Per-pod series kept at most; past it the longest silent pods' series go.
    package static let maxPods = MonitorModel.maxPods

    private var runs: [PodTable.Key: Run] = [:]
    /// Each load's highest confirmed count, and their sum: items loaded, only ever growing.
    private var loads: [String: Int] = [:]
    package private(set) var loaded: Int?
    package private(set) var pods: [String: PodSeries] = [:]
    package private(set) var job = Counts()
    /// The Job's item durations: counts per bucket of `DurationHistogram`, their sum and count.
    package private(set) var buckets = [Int](repeating: 0, count: DurationHistogram.maxBucket + 1)
    package private(set) var durationSum = 0.0
    package private(set) var durationCount = 0
    /// Events that added to the counts.
    package private(set) var events = 0

    package init() {}

    /// Adds what `event` says beyond the latest event of its run; older events of a run add nothing.
    package mutating func accept(_ event: ProgressEvent, at time: Instant) {
        let key = PodTable.Key(pod: event.pod, instance: event.instance, startedAt: event.startedAt)
        let before = runs[key]
        if let before, before.seq >= event.seq { return }
        events += 1
        let counts = Counts(event)
        let added = (before?.counts ?? Counts()).added(by: counts)
        job += added
        pods[event.pod, default: PodSeries(heard: time)].counts += added
        pods[event.pod]?.heard = time
        var buckets = before?.buckets ?? [:]
        var sum = before?.sum ?? 0
        if let durations = event.durations {
            for entry in durations.buckets where (0...DurationHistogram.maxBucket).contains(entry.bucket) {
                let more = entry.count - buckets[entry.bucket, default: 0]
                guard more > 0 else { continue }
                self.buckets[entry.bucket] += more
                durationCount += more
                buckets[entry.bucket] = entry.count
            }
            if durations.sum > sum {
                durationSum += durations.sum - sum
                sum = durations.sum
            }
        }
        runs[key] = Run(seq: event.seq, counts: (before?.counts ?? Counts()).highest(counts), buckets: buckets, sum: sum, heard: time)
        if runs.count > Self.maxRuns { forgetOldestRuns() }
        if pods.count > Self.maxPods { forgetQuietestPods() }
    }

    /// Adds what a load event says beyond the highest count of its load (a lower one adds nothing).
    /// Past `maxRuns` loads, new ones are not counted (as the screen turns them away).
    package mutating func accept(_ event: LoadEvent) {
        guard loads[event.load] != nil || loads.count < Self.maxRuns else { return }
        let before = loads[event.load] ?? 0
        loaded = (loaded ?? 0) + max(0, event.confirmed - before)
        loads[event.load] = max(before, event.confirmed)
    }

    /// Keeps the most recently heard nine tenths of `maxPods` pods' series.
    private mutating func forgetQuietestPods() {
        let kept = pods.sorted { $0.value.heard > $1.value.heard }.prefix(Self.maxPods * 9 / 10)
        pods = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }

    /// Drops the series of pods silent for `podRetention` while wqtop listened since
    /// `listeningSince` (nil: not listening, nothing is dropped).
    package mutating func expire(at time: Instant, listeningSince: Instant?) {
        guard let listeningSince else { return }
        pods = pods.filter { time - max($0.value.heard, listeningSince) <= Self.podRetention }
    }

    /// Keeps the most recently heard three quarters of `maxRuns`.
    private mutating func forgetOldestRuns() {
        let kept = runs.sorted { $0.value.heard > $1.value.heard }.prefix(Self.maxRuns * 3 / 4)
        runs = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }

    /// The Job's histogram as cumulative counts at the bounds 1 ms x 2^k (k = 0...21, 1 ms to about
    /// 35 min), each the upper edge of a bucket of `DurationHistogram`, so no count is moved.
    package var cumulativeBuckets: [MetricFamily.Bucket] {
        var out: [MetricFamily.Bucket] = []
        var running = 0
        var index = 0
        for k in 0...Self.histogramDoublings {
            // Bucket i's upper edge is 1 ms x 2^(i/4): buckets 0...4k lie below 1 ms x 2^k.
            while index <= 4 * k && index <= DurationHistogram.maxBucket {
                running += buckets[index]
                index += 1
            }
            out.append(MetricFamily.Bucket(le: 0.001 * Double(1 << k), count: running))
        }
        return out
    }

    /// The largest bound is 1 ms x 2^histogramDoublings.
    package static let histogramDoublings = 21
}
