import Core

/// The processors as their latest progress events tell them: one entry per processor run (a
/// pod name, an instance id and a start, so two that share an id stay apart), and the repeat
/// notes those events carry.
struct PodTable: Sendable {
    /// A processor run.
    struct Key: Hashable, Sendable {
        var pod: String
        var instance: String
        var startedAt: Double
    }

    /// A run's latest event, when (monotonic) it arrived, and when (the pod's clock) its first was sent.
    private struct Entry: Sendable {
        var event: ProgressEvent
        var seenAt: Instant
        var firstSentAt: Double
    }

    private var entries: [Key: Entry] = [:]
    /// Runs kept per instance id (two runs sharing one are told apart, and counted as bad once).
    private var instances: [String: Int] = [:]
    /// The processors' repeat notes: which counts a redelivery repeated.
    private(set) var repeats = RepeatLedger<Key>()
    /// An event said a processor had processed or held an item.
    private(set) var workSeen = false

    /// Keeps a run's event unless an event with a higher `seq` came first; a new run only while
    /// fewer than `limit` are kept. True when the event is a bad one: turned away for lack of
    /// room, or a new run with the instance id of another (kept apart, counted once).
    mutating func accept(_ event: ProgressEvent, at time: Instant, limit: Int) -> Bool {
        let key = Key(pod: event.pod, instance: event.instance, startedAt: event.startedAt)
        var bad = false
        if let known = entries[key] {
            if known.event.seq > event.seq { return false }
        } else {
            guard entries.count < limit else { return true }
            bad = instances[key.instance, default: 0] > 0
            instances[key.instance, default: 0] += 1
        }
        entries[key] = Entry(event: event, seenAt: time, firstSentAt: entries[key]?.firstSentAt ?? event.sentAt)
        repeats.receive(key, seq: event.seq, notes: RepeatLedger<Key>.Notes(event))
        if event.processed > 0 || event.inHand > 0 { workSeen = true }
        return bad
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Forgets the runs silent for `retention` while wqtop listened (since `listeningSince`): they
    /// finished or were lost long ago. Their repeat notes stay in `repeats`.
    mutating func forget(silentFor retention: Duration, at time: Instant, listeningSince: Instant) {
        for (key, entry) in entries where time - max(entry.seenAt, listeningSince) > retention {
            entries[key] = nil
            instances[key.instance, default: 1] -= 1
            if instances[key.instance] == 0 { instances[key.instance] = nil }
        }
    }

    /// Items the runs processed, added up.
    var processed: Int { entries.values.reduce(0) { $0 + $1.event.processed } }

    /// The durations of every run's finished items, added up; nil before the first.
    var durations: DurationHistogram? {
        var durations = DurationHistogram()
        for entry in entries.values { if let summary = entry.event.durations { durations.add(summary) } }
        return durations.count > 0 ? durations : nil
    }

    /// The broker's consumer_timeout in seconds, the largest any run reported.
    var consumerTimeout: Double? {
        entries.values.compactMap(\.event.consumerTimeoutMS).max().map { Double($0) / 1000 }
    }

    /// The earliest start of a run (Unix seconds, the pods' clocks); nil without runs.
    var firstStart: Double? { entries.values.map(\.event.startedAt).min() }

    /// When the latest event of any run was sent (Unix seconds); nil without runs.
    var lastSent: Double? { entries.values.map(\.event.sentAt).max() }

    /// The rows at monotonic `time`, by pod name and instance. A run that has not finished is
    /// lost when silent for `lostAfter` while wqtop listened (since `listeningSince`), unless
    /// the broker has an alarm (processors cannot publish events then).
    func rows(at time: Instant, listeningSince: Instant?, lostAfter: Duration, alarm: Bool) -> [PodRow] {
        entries.values.map { entry in
            let e = entry.event
            let silent = (time - entry.seenAt).inSeconds
            let lost = e.state != .finished && time - max(entry.seenAt, listeningSince ?? entry.seenAt) > lostAfter && !alarm
            var row = PodRow(
                pod: e.pod, instance: e.instance, state: e.state, lost: lost, exitCode: e.exitCode,
                processed: e.processed, failed: e.failed, deadLettered: e.deadLettered,
                inHand: lost ? 0 : e.inHand, rate: lost || e.state == .finished ? 0 : e.rate,
                current: lost ? nil : e.current, lastSeen: silent, retried: e.retried, startedAt: e.startedAt,
                firstSeenAt: entry.firstSentAt, lastSeenAt: e.sentAt)
            row.durations = e.durations
            // The item has run on since the event was sent.
            if !lost, e.state == .working || e.state == .stopping, let runningFor = e.runningFor { row.runningFor = runningFor + max(0, silent) }
            return row
        }.sorted { ($0.pod, $0.instance) < ($1.pod, $1.instance) }
    }

    /// Runs not finished that were alive when wqtop's connection went at `outage` (heard within
    /// `lostAfter` before it) and silent since.
    func silent(since outage: Instant, lostAfter: Duration) -> Int {
        entries.values.filter { $0.event.state != .finished && $0.seenAt <= outage && outage - $0.seenAt <= lostAfter }.count
    }
}
