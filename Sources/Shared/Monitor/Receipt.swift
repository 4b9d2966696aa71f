import Core

/// What `wqtop --receipt FILE` writes as wqtop ends, version 2: the Job's counts, each pod's, and
/// whether loaded = processed + dead-lettered + queued - repeats (counts a redelivery repeated). Each field is one stored property (its
/// name in snake_case in the JSON) set in `init(snapshot:endedAt:endedBy:deadLetterQueueDepth:)`.
package struct Receipt: Encodable, Sendable, Equatable {
    /// One processor run, as its latest event said.
    package struct Pod: Encodable, Sendable, Equatable {
        package var pod: String
        package var instance: String
        /// The state of its latest event, or "lost" when it went silent without a final event.
        package var state: String
        package var lost: Bool
        package var exitCode: JSONNull<Int32>
        package var processed: Int
        package var failed: Int
        package var retried: Int
        package var deadLettered: Int
        /// Unix seconds (the pod's clock): its start, its first and its latest event seen.
        package var startedAt: Double
        package var firstSeenAt: Double
        package var lastSeenAt: Double
        /// Its item durations; null before its first item finished.
        package var durations: JSONNull<DurationFigures>
    }

    /// One work queue of a sharded Job at the end: its ready items (null when it does not exist).
    package struct Shard: Encodable, Sendable, Equatable {
        package var queue: String
        package var ready: JSONNull<Int>
        package var consumers: JSONNull<Int>
    }

    /// Whether every loaded item is accounted for, and why not.
    package struct Reconciliation: Encodable, Sendable, Equatable {
        /// Items the loaders confirmed; null without load events.
        package var loaded: JSONNull<Int>
        /// processed + dead_lettered + queued, as the processors counted.
        package var counted: Int
        /// Counts repeated by redeliveries (see `RepeatLedger`).
        package var repeats: Int
        /// counted - repeats.
        package var accounted: Int
        /// accounted - loaded: below 0, items lost; above, items queued without a load event.
        package var difference: JSONNull<Int>
        /// Whether `repeats` is known to be every repeat: the processors' notes all arrived.
        package var exact: Bool
        /// Why it is not exact, one phrase each; empty when it is.
        package var doubts: [String]
        /// exact, and difference 0. Written as null when not exact: wqtop cannot tell, and a
        /// Job that lost nothing must never read as unbalanced.
        package var balanced: Bool
        /// One sentence: why the numbers do not add up, or that they do.
        package var explanation: String

        enum CodingKeys: String, CodingKey {
            case loaded, counted, repeats, accounted, difference, exact, doubts, balanced, explanation
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(loaded, forKey: .loaded)
            try c.encode(counted, forKey: .counted)
            try c.encode(repeats, forKey: .repeats)
            try c.encode(accounted, forKey: .accounted)
            try c.encode(difference, forKey: .difference)
            try c.encode(exact, forKey: .exact)
            try c.encode(doubts, forKey: .doubts)
            try c.encode(JSONNull(value: exact ? balanced : nil), forKey: .balanced)
            try c.encode(explanation, forKey: .explanation)
        }
    }

    /// 2 since 0.6.0: `counted`, `repeats`, `exact` and `doubts` came, and `accounted` no longer
    /// holds the repeats.
    package static let version = 2

    package var v = Receipt.version
    package var queue: String
    /// The Job was finished: work seen, the queue empty, nothing in flight, every pod ended.
    package var finished: Bool
    /// How wqtop ended: drained, once, quit, SIGINT, SIGTERM or hang-up.
    package var endedBy: String
    /// Unix seconds: the earliest start of a processor or loader run seen (else wqtop's end), and
    /// when wqtop ended.
    package var startedAt: Double
    package var endedAt: Double
    package var elapsedSeconds: Double
    /// Items the loaders confirmed, added up over their runs; null without load events.
    package var loaded: JSONNull<Int>
    package var processed: Int
    package var deadLettered: Int
    package var retried: Int
    package var failedAttempts: Int
    /// Still in the work queue at the end: ready plus in flight (held by live processors).
    package var queued: Int
    package var ready: Int
    package var inFlight: Int
    /// Each work queue with `--shards N`, N > 1, whose ready items `ready` adds up; absent with one shard.
    package var shards: [Shard]?
    /// Why the Job may have another shard count than wqtop was given; absent when none seen.
    package var shardsWarning: String?
    /// Messages in QUEUE.failed at the end (also those of earlier runs); null when it is missing.
    package var deadLetterQueueDepth: JSONNull<Int>
    /// The Job's item durations (every pod's histogram added up); null before any item finished.
    package var durations: JSONNull<DurationFigures>
    package var pods: [Pod]
    /// Progress messages dropped or cut, and instance ids shared.
    package var badEvents: Int
    package var reconciliation: Reconciliation

    /// The receipt of the frame `snapshot`, taken as wqtop ended at `endedAt` (Unix seconds).
    package init(snapshot s: MonitorSnapshot, endedAt: Double, endedBy: String, deadLetterQueueDepth: Int?) {
        queue = s.queue
        finished = s.finished
        self.endedBy = endedBy
        startedAt = Self.seconds(s.startedAt ?? endedAt)
        self.endedAt = Self.seconds(endedAt)
        elapsedSeconds = Self.seconds(max(0, endedAt - (s.startedAt ?? endedAt)))
        loaded = JSONNull(value: s.loadedTotal)
        processed = s.processed
        deadLettered = s.deadLettered
        retried = s.retried
        failedAttempts = s.failed
        ready = s.ready
        inFlight = s.inFlight
        queued = s.ready + s.inFlight
        shards = s.shards.isEmpty ? nil : s.shards.map {
            Shard(queue: $0.queue, ready: JSONNull(value: $0.counts?.ready), consumers: JSONNull(value: $0.counts?.consumers))
        }
        shardsWarning = s.shardMismatch
        self.deadLetterQueueDepth = JSONNull(value: deadLetterQueueDepth)
        durations = JSONNull(value: DurationFigures(s.itemDurations?.summary))
        pods = s.pods.map {
            Pod(pod: $0.pod, instance: $0.instance, state: $0.lost ? "lost" : $0.state.rawValue, lost: $0.lost,
                exitCode: JSONNull(value: $0.exitCode), processed: $0.processed, failed: $0.failed, retried: $0.retried,
                deadLettered: $0.deadLettered, startedAt: Self.seconds($0.startedAt), firstSeenAt: Self.seconds($0.firstSeenAt),
                lastSeenAt: Self.seconds($0.lastSeenAt), durations: JSONNull(value: DurationFigures($0.durations)))
        }
        badEvents = s.badEvents
        reconciliation = Self.reconcile(s)
    }

    /// A shard that does not exist is items wqtop cannot count: those of a shard deleted with its
    /// items (lost), or none (wqtop given a larger N than the Job's). It cannot tell which.
    private static func missingShards(_ s: MonitorSnapshot) -> [String] {
        let missing = s.missingShards
        guard let first = missing.first else { return [] }
        let which = missing.count == 1 ? "the shard '\(first)' does not exist" : "\(missing.count) shards ('\(first)', ...) do not exist"
        return ["\(which) (deleted with its items, or wqtop was given another --shards than the Job's)"]
    }

    /// Unix seconds to the millisecond.
    static func seconds(_ time: Double) -> Double { (time * 1000).rounded() / 1000 }

    private static func reconcile(_ s: MonitorSnapshot) -> Reconciliation {
        let queued = s.ready + s.inFlight
        let counted = s.processed + s.deadLettered + queued
        let repeats = s.repeatNotes.repeats
        let accounted = counted - repeats
        // A shard count that may be wrong leaves work queues unsampled: `queued` may miss items.
        let doubts = s.repeatNotes.doubts(
            finished: s.finished, deficit: s.loadedTotal.map { accounted < $0 } ?? false,
            surplus: s.loadedTotal.map { accounted > $0 } ?? false) + (s.shardMismatch.map { [$0] } ?? []) + missingShards(s)
        let exact = doubts.isEmpty
        let sum = "processed \(s.processed) + dead-lettered \(s.deadLettered) + queued \(queued) - repeats \(repeats)"
        let open = s.finished ? "" : "; the Job had not finished, so counts may still change"
        let unsure = exact ? "" : "; not exact: " + doubts.joined(separator: "; ")
        guard let loaded = s.loadedTotal else {
            return Reconciliation(
                loaded: JSONNull(value: nil), counted: counted, repeats: repeats, accounted: accounted,
                difference: JSONNull(value: nil), exact: exact, doubts: doubts, balanced: false,
                explanation: "no load event was seen, so there is nothing to reconcile against (\(sum) = \(accounted))\(open)\(unsure)")
        }
        let difference = accounted - loaded
        let explanation: String
        if difference == 0 {
            explanation = exact
                ? "balanced: loaded \(loaded) = \(sum)\(open)"
                : "loaded \(loaded) = \(sum), but the repeats are not known exactly\(unsure)\(open)"
        } else if difference > 0 {
            explanation = "\(difference) more than loaded \(loaded) (\(sum)): items queued without a load event (a loader older than load events, --no-progress, a load before wqtop started, a loader killed between two of its load events, or a loader's re-publish after a lost connection)\(unsure)\(open)"
        } else {
            let silent = s.pods.filter(\.lost).map { "\($0.pod) (\($0.instance))" }
            let who = silent.isEmpty
                ? "items taken by consumers that send no events, purged or deleted, or counted while the broker blocked events (a resource alarm)"
                : "items taken by consumers that send no events, purged or deleted; lost without a final event: \(silent.joined(separator: ", "))"
            explanation = "\(-difference) items unaccounted for: \(sum) is below loaded \(loaded); \(who)\(unsure)\(open)"
        }
        return Reconciliation(
            loaded: JSONNull(value: loaded), counted: counted, repeats: repeats, accounted: accounted,
            difference: JSONNull(value: difference), exact: exact, doubts: doubts, balanced: exact && difference == 0,
            explanation: explanation)
    }
}
