import Core

/// What `wqtop --serve` has beyond a frame: the ledger's counts that only grow, the Job's
/// item-duration histogram, and the monitor's own errors. A copy of the ledger's totals, not the
/// ledger: a snapshot holding the ledger (its 100,000 runs' baselines) would make the next event
/// copy them all.
package struct MetricsFigures: Sendable, Equatable {
    package var job = MetricsLedger.Counts()
    package var pods: [String: MetricsLedger.Counts] = [:]
    package var buckets: [MetricFamily.Bucket] = []
    package var durationSum = 0.0
    package var durationCount = 0
    /// Progress events that added to the counts.
    package var events = 0
    /// Items loaded, each load's highest count added up; nil before a load event.
    package var loaded: Int?
    /// Connections lost or refused and samples that failed.
    package var sampleErrors = 0
    /// Messages in QUEUE.failed at the latest sample; nil when it is missing or was never sampled.
    package var deadLettersWaiting: Int?

    package init() {}

    init(_ ledger: MetricsLedger, sampleErrors: Int) {
        job = ledger.job
        pods = ledger.pods.mapValues(\.counts)
        buckets = ledger.cumulativeBuckets
        durationSum = ledger.durationSum
        durationCount = ledger.durationCount
        events = ledger.events
        loaded = ledger.loaded
        self.sampleErrors = sampleErrors
    }
}

/// The page `wqtop --serve` serves: a snapshot and its `MetricsFigures` as metric families
/// named after Prometheus's conventions (base units, `_total` on counters, a `queue` label on
/// every series and a `pod` label only on per-pod ones). docs/metrics.md describes each.
package struct MetricsPage: Sendable {
    package let snapshot: MonitorSnapshot
    package let figures: MetricsFigures

    /// The page of `snapshot`, with its `metrics` (none yet: zeros).
    package init(snapshot: MonitorSnapshot) {
        self.snapshot = snapshot
        self.figures = snapshot.metrics ?? MetricsFigures()
    }

    package func render(_ format: ExpositionFormat) -> String {
        MetricFamily.page(families, format: format)
    }

    /// The counts every processor run reports, as counters of the Job and of each pod.
    private static let counts: [(name: String, help: String, value: KeyPath<MetricsLedger.Counts, Int> & Sendable)] = [
        ("items_processed", "Items whose command succeeded", \.processed),
        ("item_failures", "Failed attempts (each retry and each dead letter)", \.failed),
        ("items_retried", "Failed attempts queued again for another attempt", \.retried),
        ("items_dead_lettered", "Items moved to QUEUE.failed after their last attempt", \.deadLettered),
    ]

    /// Each shard's ready messages and consumers, with `--shards N` (N > 1) only: a Job of one
    /// shard has no such series. A shard that does not exist has none either.
    private var shardFamilies: [MetricFamily] {
        let shards = snapshot.shards
        guard shards.count > 1 else { return [] }
        func perShard(_ value: (QueueCounts) -> Int) -> [MetricFamily.Sample] {
            shards.enumerated().compactMap { index, shard in
                shard.counts.map { .value([MetricFamily.Label("queue", snapshot.queue), MetricFamily.Label("shard", String(index))], Double(value($0))) }
            }
        }
        return [
            MetricFamily(
                "workqueue_shard_ready_messages", .gauge, help: "Messages ready in one shard of the work queue, QUEUE.<shard> (its latest sample).",
                samples: perShard(\.ready)),
            MetricFamily(
                "workqueue_shard_consumers", .gauge, help: "Consumers of one shard of the work queue, QUEUE.<shard> (its latest sample).",
                samples: perShard(\.consumers)),
        ]
    }

    package var families: [MetricFamily] {
        let s = snapshot
        let queue = [MetricFamily.Label("queue", s.queue)]
        func one(_ value: Double) -> [MetricFamily.Sample] { [.value(queue, value)] }
        func flag(_ on: Bool) -> [MetricFamily.Sample] { one(on ? 1 : 0) }
        let job = figures.job
        // Per-pod series: the ledger's pods (those silent for long are gone), sorted by name.
        let podNames = figures.pods.keys.sorted()
        func perPod(_ value: (MetricsLedger.Counts) -> Int) -> [MetricFamily.Sample] {
            podNames.map { .value(queue + [MetricFamily.Label("pod", $0)], Double(value(figures.pods[$0] ?? .init()))) }
        }
        var oldest: [String: Double] = [:]
        for row in s.pods where row.live { oldest[row.pod] = max(oldest[row.pod] ?? 0, row.runningFor ?? 0) }
        let podsByState: [(String, Int)] = [("working", s.pods.filter(\.live).count), ("finished", s.finishedPods), ("lost", s.lostPods)]
        // The four counts, for the Job and per pod.
        let jobCounts = Self.counts.map { count in
            MetricFamily("workqueue_\(count.name)", .counter, help: count.help + ", added up over every processor run.",
                samples: one(Double(job[keyPath: count.value])))
        }
        let podCounts = Self.counts.map { count in
            MetricFamily("workqueue_pod_\(count.name)", .counter, help: count.help + ", by one pod over its runs (restarts add up).",
                samples: perPod { $0[keyPath: count.value] })
        }
        return [
            MetricFamily(
                "workqueue_items_loaded", .counter, help: "Items the loaders published with a confirm (from their load events).",
                samples: figures.loaded.map { one(Double($0)) } ?? []),
        ] + jobCounts + [
            MetricFamily(
                "workqueue_items_repeated", .counter,
                help: "Counts repeated by redeliveries (an item a killed pod had finished, done again): processed + dead-lettered - repeated = items done once.",
                samples: one(Double(s.repeatNotes.repeats))),
            MetricFamily(
                "workqueue_item_duration_seconds", .histogram,
                help: "How long items took (successes and failed attempts), every processor's histogram added up.", unit: "seconds",
                samples: [
                    .histogram(
                        queue, buckets: figures.buckets, sum: figures.durationSum,
                        count: figures.durationCount)
                ]),
            MetricFamily(
                "workqueue_ready_messages", .gauge, help: "Messages ready in the work queue (its latest sample; every shard's added up).",
                samples: s.state == .connecting || s.state == .queueMissing ? [] : one(Double(s.ready))),
            MetricFamily(
                "workqueue_consumers", .gauge, help: "Consumers of the work queue (its latest sample; the most any shard has).",
                samples: s.state == .connecting || s.state == .queueMissing ? [] : one(Double(s.consumers))),
        ] + shardFamilies + [
            MetricFamily(
                "workqueue_items_in_flight", .gauge, help: "Items the processors hold (delivered, not yet acknowledged).",
                samples: one(Double(s.inFlight))),
            MetricFamily(
                "workqueue_dead_letters_waiting", .gauge, help: "Messages in QUEUE.failed (absent when it does not exist).",
                samples: figures.deadLettersWaiting.map { one(Double($0)) } ?? []),
            MetricFamily(
                "workqueue_done_ratio", .gauge, help: "Items done (processed or dead-lettered) over items loaded, 0 to 1.", unit: "ratio",
                samples: s.percentDone.map { one($0 / 100) } ?? []),
            MetricFamily(
                "workqueue_stragglers", .gauge, help: "Pods whose current item runs past 3x the Job's p95 (or 80% of the consumer timeout).",
                samples: one(Double(s.stragglers))),
            MetricFamily(
                "workqueue_consumer_timeout_seconds", .gauge,
                help: "The broker's consumer_timeout as processors report it; RabbitMQ's default 1800 while none did.", unit: "seconds",
                samples: one(s.consumerTimeout ?? MonitorSnapshot.brokerConsumerTimeout)),
            MetricFamily(
                "workqueue_broker_alarm", .gauge, help: "1 while the broker blocks publishers (a memory or disk alarm).",
                samples: flag(s.brokerAlarm != nil)),
            MetricFamily(
                "workqueue_pods", .gauge, help: "Processor runs by state: working (alive), finished, lost (silent without finishing).",
                samples: podsByState.map { .value(queue + [MetricFamily.Label("state", $0.0)], Double($0.1)) }),
            MetricFamily(
                "workqueue_job_finished", .gauge,
                help: "1 once work was seen, the queue is empty, nothing is in flight and every pod finished or is lost.",
                samples: flag(s.finished)),
            MetricFamily(
                "workqueue_monitor_connected", .gauge, help: "1 while wqtop is connected to the broker.",
                samples: flag(s.connectionProblem == nil && s.state != .connecting)),
            MetricFamily(
                "workqueue_monitor_sample_errors", .counter, help: "wqtop's connections lost or refused and samples that failed.",
                samples: one(Double(figures.sampleErrors))),
            MetricFamily(
                "workqueue_monitor_bad_events", .counter, help: "Progress events wqtop dropped or cut (malformed, too large, clashing).",
                samples: one(Double(s.badEvents))),
            MetricFamily(
                "workqueue_monitor_events", .counter, help: "Progress events that added to the counts.",
                samples: one(Double(figures.events))),
        ] + podCounts + [
            MetricFamily(
                "workqueue_pod_oldest_item_seconds", .gauge, help: "How long a pod's longest-running current item has run (0: none).",
                unit: "seconds", samples: podNames.map { .value(queue + [MetricFamily.Label("pod", $0)], oldest[$0] ?? 0) }),
        ]
    }
}
