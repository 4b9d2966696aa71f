import Core
/// What the queue looks like to the monitor, from the depth samples and the pods' counts.
package enum QueueState: String, Sendable, Equatable, Codable {
    case connecting
    case queueMissing = "queue missing"
    case waitingForWork = "waiting for work"
    case loading
    case draining
    case stalled
    case drained
}

/// One processor as the monitor last heard of it.
package struct PodRow: Sendable, Equatable {
    package var pod: String
    package var instance: String
    package var state: ProcessorState
    /// Silent for the lost timeout without having finished.
    package var lost: Bool
    package var exitCode: Int32?
    package var processed: Int
    package var failed: Int
    package var retried = 0
    package var deadLettered: Int
    package var inHand: Int
    package var rate: Double
    package var current: String?
    /// Seconds since the last event.
    package var lastSeen: Double
    /// Seconds its longest-running item has run (as of now), while it works on one.
    package var runningFor: Double?
    /// How long its finished items took (see `DurationSummary`); nil before the first.
    package var durations: DurationSummary?
    /// Unix seconds (the pod's clock): its start, and the sending of its first and latest event seen.
    package var startedAt = 0.0
    package var firstSeenAt = 0.0
    package var lastSeenAt = 0.0

    package init(
        pod: String, instance: String = "", state: ProcessorState, lost: Bool = false, exitCode: Int32? = nil,
        processed: Int = 0, failed: Int = 0, deadLettered: Int = 0, inHand: Int = 0, rate: Double = 0,
        current: String? = nil, lastSeen: Double = 0, retried: Int = 0, startedAt: Double = 0, firstSeenAt: Double = 0,
        lastSeenAt: Double = 0
    ) {
        self.pod = pod
        self.instance = instance
        self.state = state
        self.lost = lost
        self.exitCode = exitCode
        self.processed = processed
        self.failed = failed
        self.deadLettered = deadLettered
        self.inHand = inHand
        self.rate = rate
        self.current = current
        self.lastSeen = lastSeen
        self.retried = retried
        self.startedAt = startedAt
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
    }

    /// Still expected to do or hold work.
    package var live: Bool { !lost && state != .finished }

    /// Its item has run `threshold` seconds or longer.
    package func isStraggling(after threshold: Double?) -> Bool {
        guard let threshold, let runningFor else { return false }
        return runningFor >= threshold
    }
}

/// One failed attempt, as a processor's failure event told it, and how long ago.
package struct FailureRow: Sendable, Equatable {
    package var event: FailureEvent
    package var ago: Double

    package init(event: FailureEvent, ago: Double) {
        self.event = event
        self.ago = ago
    }
}

/// What the processors' repeat notes say (see `RepeatLedger`): the counts a redelivery repeated,
/// and whatever keeps that number from being exact.
package struct RepeatSummary: Sendable, Equatable {
    /// Counts repeated by redeliveries, to take out of the reconciliation.
    package var repeats = 0
    /// Progress events not received (gaps in a processor's `seq`, or sent before wqtop listened):
    /// harmless in themselves, as every event holds whole counts and lists.
    package var missedEvents = 0
    /// Redelivery or copy notes not received (they left the processors' events before wqtop read one).
    package var missedNews = 0
    /// Processors that send no repeat notes (older than 0.6.0).
    package var podsWithoutNotes = 0
    /// Keys the processors could not fit in their events.
    package var omitted = 0
    /// Redelivered messages whose holder went while its copy was unconfirmed, the copy not seen (yet).
    package var unresolved = 0
    /// wqtop held as many keys as it keeps and dropped notes.
    package var overflowed = false
    /// Times wqtop's connection was lost and made again: events sent in between were lost to it.
    package var listeningGaps = 0
    /// Pods not finished and not heard since wqtop's connection was last lost (a broker restart):
    /// what they held then they could not name after it.
    package var silentSinceOutage = 0
    /// Finished items still named unsettled, no redelivery of them seen (`RepeatLedger.stillUnsettled`).
    package var stillUnsettled = 0

    package init(
        repeats: Int = 0, missedEvents: Int = 0, missedNews: Int = 0, podsWithoutNotes: Int = 0, omitted: Int = 0, unresolved: Int = 0,
        overflowed: Bool = false, listeningGaps: Int = 0, silentSinceOutage: Int = 0, stillUnsettled: Int = 0
    ) {
        self.stillUnsettled = stillUnsettled
        self.repeats = repeats
        self.missedEvents = missedEvents
        self.missedNews = missedNews
        self.podsWithoutNotes = podsWithoutNotes
        self.omitted = omitted
        self.unresolved = unresolved
        self.overflowed = overflowed
        self.listeningGaps = listeningGaps
        self.silentSinceOutage = silentSinceOutage
    }

    /// Why `repeats` may not be every repeat (or may count one too many), or counts may be
    /// missing, one phrase each; empty when it is exact. `finished`: a copy not seen by then never
    /// existed. `deficit`: fewer items are accounted for than were loaded, which a processor
    /// that ran only while wqtop was not listening would explain.
    /// `surplus`: more are accounted for than loaded, which repeats that a pod silent since a
    /// broker outage could not name would explain (a broker restart can lose acknowledgements it
    /// had taken; a processor that reconnects names them, one killed before it cannot).
    package func doubts(finished: Bool, deficit: Bool = false, surplus: Bool = false) -> [String] {
        var out: [String] = []
        if surplus && silentSinceOutage > 0 {
            out.append("\(silentSinceOutage) processors went silent before wqtop's connection was lost and were not heard after it (repeats of what they held may be left in)")
        }
        if deficit && listeningGaps > 0 {
            out.append("wqtop's connection was lost \(listeningGaps) times (events sent meanwhile are lost to it; a processor that ran only then is not counted)")
        }
        if missedNews > 0 { out.append("\(missedNews) notes of redelivered items or copies were not received (wqtop was not listening for over a minute, or events were dropped)") }
        if podsWithoutNotes > 0 { out.append("\(podsWithoutNotes) processors send no repeat notes (older than 0.6.0)") }
        if omitted > 0 { out.append("processors could not name \(omitted) items in their events (more than an event holds)") }
        if unresolved > 0 && !finished {
            out.append("\(unresolved) redelivered items had a copy on its way when their processor went, and the Job has not finished")
        }
        if overflowed { out.append("wqtop held as many item keys as it keeps and dropped some") }
        if surplus && stillUnsettled > 0 {
            out.append("\(stillUnsettled) finished items are still named unsettled (a broker restart may have lost their acknowledgements and handed them out again without the redelivered flag, which no processor can name)")
        }
        return out
    }
}

/// Everything one frame shows: a plain value the renderers turn into text.
package struct MonitorSnapshot: Sendable, Equatable {
    package var queue: String
    package var endpoint: String
    /// "reconnecting..." and why, while the broker is unreachable.
    package var connectionProblem: String?
    /// Why the broker blocks publishers (connection.blocked), while it does.
    package var brokerAlarm: String?
    /// Why wqtop gets no progress events (the broker refused its private queue): only the
    /// queue's counts are shown.
    package var eventsOff: String?
    package var state: QueueState = .connecting
    package var ready = 0
    package var consumers = 0
    /// Each work queue with `--shards N` (N > 1), in shard order; empty with one shard (`ready` and
    /// `consumers` are the Job's totals either way).
    package var shards: [ShardRow] = []
    /// Why the Job may have another shard count than wqtop was given; the Job is not taken for
    /// finished while it is set.
    package var shardMismatch: String?
    package var inFlight = 0
    package var processed = 0
    package var failed = 0
    package var retried = 0
    package var deadLettered = 0
    package var rateNow = 0.0
    package var rateMinute = 0.0
    package var eta: Double?
    package var elapsed = 0.0
    /// Unix seconds when the Job began: the earliest start of a processor or loader run seen.
    package var startedAt: Double?
    /// Oldest first, one per sample.
    package var depthHistory: [Int] = []
    package var rateHistory: [Double] = []
    package var pods: [PodRow] = []
    /// Work was seen, the queue is empty, nothing is in flight and every pod seen has ended.
    package var finished = false
    /// Items the loaders had confirmed, added up over their runs; nil before any load event.
    package var loadedTotal: Int?
    /// Progress messages dropped or cut (see `ProgressEvent.Limits`) and instance ids shared.
    package var badEvents = 0
    /// The durations of every pod's finished items, added up; nil before the first.
    package var itemDurations: DurationHistogram?
    /// The latest failed attempts, newest first (see `MonitorModel.failuresKept`).
    package var failures: [FailureRow] = []
    /// Failure events the processors sent or skipped (rate limit) since the monitor started.
    package var failureEvents = 0
    /// The counts redeliveries repeated, and how sure that number is.
    package var repeatNotes = RepeatSummary()
    /// What `wqtop --serve` exports beyond the frame; nil unless the model keeps a `MetricsLedger`.
    package var metrics: MetricsFigures?

    package init(queue: String, endpoint: String) {
        self.queue = queue
        self.endpoint = endpoint
    }

    /// Items done: processed or dead-lettered.
    package var done: Int { processed + deadLettered }
    /// `done` of `loadedTotal` in percent, at most 100 (redeliveries can make done exceed the
    /// total); nil without load events.
    package var percentDone: Double? {
        guard let total = loadedTotal else { return nil }
        guard total > 0 else { return done > 0 ? 100 : 0 }
        return min(100, Double(done) * 100 / Double(total))
    }

    /// The shards that do not exist (yet), by name.
    package var missingShards: [String] { shards.filter { $0.counts == nil }.map(\.queue) }

    package var lostPods: Int { pods.filter(\.lost).count }

    /// Items need this many finished durations before 3x their p95 means anything.
    package static let stragglerBaseline = 20
    /// RabbitMQ's default `consumer_timeout` (30 min): an item held longer makes the broker close
    /// the channel, and the item runs again elsewhere. Assumed while no processor reports the
    /// real one: AMQP does not tell clients the value.
    package static let brokerConsumerTimeout = 1800.0

    /// The broker's consumer_timeout in seconds, the largest any processor reported (given to it,
    /// or learned from the broker's close); nil while none did.
    package var consumerTimeout: Double?

    /// Seconds after which a running item is a straggler: 3x the Job's p95 (at least 1 s) once
    /// `stragglerBaseline` items finished, and never later than 80% of the broker's consumer
    /// timeout (the one the processors report, else RabbitMQ's default).
    package var stragglerAfter: Double {
        let nearTimeout = 0.8 * (consumerTimeout ?? Self.brokerConsumerTimeout)
        guard let durations = itemDurations, durations.count >= Self.stragglerBaseline, let p95 = durations.percentile(0.95) else {
            return nearTimeout
        }
        return min(nearTimeout, max(1, 3 * p95))
    }

    /// Pods whose current item runs past `stragglerAfter`.
    package var stragglers: Int { pods.filter { $0.isStraggling(after: stragglerAfter) }.count }
    package var workingPods: Int { pods.filter { $0.live && $0.state == .working }.count }
    package var finishedPods: Int { pods.filter { $0.state == .finished && !$0.lost }.count }
}
