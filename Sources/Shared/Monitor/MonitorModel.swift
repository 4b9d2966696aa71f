import Core
import Platform
import AMQPClient
/// The monitor's memory, in parts that each own their state: the processors' runs (`PodTable`),
/// the loads (`LoadLedger`), the failures (`FailureLog`), the queue's depth (`QueueDepth`), the
/// rates and history graphs (`SampleHistory`) and the link to the broker (`BrokerLink`).
/// Pure: events and samples go in with their time, snapshots come out.
package struct MonitorModel: Sendable {
    package let queue: String
    package let endpoint: String
    package let interval: Duration
    private var pods = PodTable()
    private var loads = LoadLedger()
    private var failures = FailureLog()
    private var depth = QueueDepth()
    private var history = SampleHistory()
    /// What the session tells of its connection: set by it, read by the snapshot.
    package var link = BrokerLink()
    /// Progress messages dropped, cut or clashing with another processor's instance id.
    package private(set) var badEvents = 0
    /// Each work queue's latest counts with more than one shard (`sample(shards:at:)`); empty with one.
    private var shards: [ShardRow] = []
    /// Why the Job may have another shard count than wqtop was given (the session's check, see
    /// `ShardCheck`): while set, the Job is never taken for finished.
    package var shardMismatch: String?
    /// The counts `--serve` exports, when asked for (`keepsMetrics`).
    private var ledger: MetricsLedger?
    /// Whether runs silent for `MetricsLedger.podRetention` are forgotten (`--serve` without
    /// `--receipt`: an exporter that runs for days follows new pods past `maxPods`).
    private let forgetsOldRuns: Bool

    /// Samples kept for the history graphs.
    package static let historyLength = SampleHistory.length
    /// Processor runs kept; events of further ones are bad events.
    package static let maxPods = 10_000
    /// Failure events kept for the failures pane and `--json`.
    package static let failuresKept = 100

    package init(queue: String, endpoint: String, interval: Duration, keepsMetrics: Bool = false, forgetsOldRuns: Bool = false) {
        self.queue = queue
        self.endpoint = endpoint
        self.interval = interval
        self.ledger = keepsMetrics ? MetricsLedger() : nil
        self.forgetsOldRuns = forgetsOldRuns
    }

    /// Seconds without an event before a pod that has not finished counts as lost.
    package var lostAfter: Duration { max(interval * 3, .seconds(3)) }
    /// Seconds without progress, with work left and nobody working, before the queue is stalled.
    package var stalledAfter: Duration { max(interval * 3, .seconds(5)) }

    /// Records a raw message from the progress exchange, as wqtop receives it: screened by
    /// `ProgressEvent.screen` (bad ones are counted in `badEvents`), then `receive(_:at:)`.
    package mutating func receive(_ bytes: [UInt8], at time: Instant, wallTime: Double? = nil) {
        accept(ProgressEvent.screen(bytes, wallTime: wallTime), at: time)
    }

    /// Records a progress event. Events of other queues and older events are ignored; an event
    /// outside `ProgressEvent.Limits` is dropped and counted in `badEvents`.
    package mutating func receive(_ event: ProgressEvent, at time: Instant, wallTime: Double? = nil) {
        accept(event.screened(wallTime: wallTime), at: time)
    }

    /// Records a loader's event. Events of other queues are ignored; an event outside
    /// `ProgressEvent.Limits` is dropped and counted in `badEvents`.
    package mutating func receive(_ event: LoadEvent, wallTime: Double? = nil) {
        switch event.screened(wallTime: wallTime) {
        case .load(let load, let cut): accept(load, cut: cut)
        case .rejected: badEvents += 1
        default: break
        }
    }

    /// Hands a screened event to the part that keeps its kind. A cut event counts as bad once,
    /// whether or not it is kept.
    private mutating func accept(_ screened: ScreenedEvent, at time: Instant) {
        switch screened {
        case .accepted(let event, let cut):
            guard event.queue == queue else { return }
            let bad = pods.accept(event, at: time, limit: Self.maxPods)
            if cut || bad { badEvents += 1 }
            ledger?.accept(event, at: time)
        case .load(let event, let cut):
            accept(event, cut: cut)
        case .failure(let event, let cut):
            guard event.queue == queue else { return }
            if cut { badEvents += 1 }
            failures.accept(event, kept: Self.failuresKept)
        case .rejected:
            badEvents += 1
        case .foreign:
            return
        }
    }

    private mutating func accept(_ event: LoadEvent, cut: Bool) {
        guard event.queue == queue else { return }
        let full = loads.accept(event, limit: Self.maxPods)
        ledger?.accept(event)
        if cut || full { badEvents += 1 }
    }

    /// Records a depth sample; nil when the queue does not exist.
    package mutating func sample(_ counts: QueueCounts?, at time: Instant) {
        depth.sample(counts, at: time)
        history.record(done: processed, ready: depth.ready, at: time)
        ledger?.expire(at: time, listeningSince: link.listeningSince)
        if forgetsOldRuns, let since = link.listeningSince { pods.forget(silentFor: MetricsLedger.podRetention, at: time, listeningSince: since) }
    }

    /// Records a sample of every work queue of a sharded Job, in shard order (a shard's counts nil
    /// when it does not exist): ready items add up and the consumers are the most any shard
    /// counts (`QueueCounts.adding(shard:)`); the Job's queue is missing while any shard is.
    package mutating func sample(shards samples: [ShardRow], at time: Instant) {
        var total: QueueCounts? = QueueCounts(ready: 0, consumers: 0)
        for row in samples {
            guard let counts = row.counts else { total = nil; break }
            total = total?.adding(shard: counts)
        }
        shards = samples.count > 1 ? ShardRow.marked(samples) : []
        sample(total, at: time)
    }

    /// Items done: the pods' counts when any pod reports, else what left the queue.
    private var processed: Int {
        pods.isEmpty ? depth.drained : pods.processed
    }

    /// The frame at monotonic `time`; `wallTime` (Unix seconds) dates the pods' own clocks.
    package func snapshot(at time: Instant, wallTime: Double = WallClock.now()) -> MonitorSnapshot {
        var s = MonitorSnapshot(queue: queue, endpoint: endpoint)
        s.connectionProblem = link.connectionProblem
        s.brokerAlarm = link.brokerAlarm
        s.eventsOff = link.eventsOff
        s.badEvents = badEvents
        s.elapsed = depth.firstSample.map { (time - $0).inSeconds } ?? 0
        s.itemDurations = pods.durations
        s.consumerTimeout = pods.consumerTimeout
        // During an alarm processors cannot publish events: silence is not loss then.
        // Silence counts only while wqtop listened (events sent meanwhile were never received).
        s.pods = pods.rows(at: time, listeningSince: link.listeningSince, lostAfter: lostAfter, alarm: link.brokerAlarm != nil)
        s.failures = failures.rows(wallTime: wallTime)
        s.failureEvents = failures.events
        s.repeatNotes = repeatNotes
        s.metrics = ledger.map { MetricsFigures($0, sampleErrors: link.errors) }
        // With shards, what the shards that exist hold, also while one is missing (the Job's queue
        // is then "missing", but the items in the others are there: a receipt must count them).
        s.ready = shards.isEmpty ? depth.ready : shards.reduce(0) { $0 + ($1.counts?.ready ?? 0) }
        s.shards = shards
        s.shardMismatch = shardMismatch
        s.consumers = depth.counts?.consumers ?? shards.compactMap { $0.counts?.consumers }.max() ?? 0
        s.inFlight = s.pods.reduce(0) { $0 + $1.inHand }
        s.processed = processed
        s.failed = s.pods.reduce(0) { $0 + $1.failed }
        s.retried = s.pods.reduce(0) { $0 + $1.retried }
        s.startedAt = ([pods.firstStart].compactMap { $0 } + loads.starts).min()
        s.deadLettered = s.pods.reduce(0) { $0 + $1.deadLettered }
        s.rateNow = history.now.rate
        s.rateMinute = history.minute.rate
        var remaining = s.ready + s.inFlight
        if let loaded = loads.confirmed {
            s.loadedTotal = loaded
            // What the loads left to do, or more when the queue holds items no load event told of.
            remaining = max(remaining, loaded - s.done)
        }
        s.eta = remaining == 0 ? 0 : (s.rateNow > 0 ? Double(remaining) / s.rateNow : nil)
        s.depthHistory = history.depth
        s.rateHistory = history.rate
        s.state = state(s, at: time)
        let podsEnded = s.pods.allSatisfy { !$0.live }
        // Not while the broker is unreachable: the samples are old, and pods silent meanwhile look lost.
        // Nor while the Job may have other work queues than those sampled (a shard count mismatch).
        s.finished = s.state == .drained && podsEnded && (!s.pods.isEmpty || s.consumers == 0) && link.connectionProblem == nil
            && shardMismatch == nil
        // The Job's own elapsed time: from the first pod's start to now, or to the last finish.
        if let firstStart = pods.firstStart {
            let end = s.finished ? pods.lastSent ?? wallTime : wallTime
            s.elapsed = max(0, end - firstStart)
        }
        return s
    }

    /// The repeat notes' summary, with what the link knows of the events wqtop may have missed.
    private var repeatNotes: RepeatSummary {
        let r = pods.repeats
        return RepeatSummary(
            repeats: r.repeats, missedEvents: r.missedEvents, missedNews: r.missedNews, podsWithoutNotes: r.podsWithoutNotes,
            omitted: r.omitted, unresolved: r.unresolved, overflowed: r.overflowed, listeningGaps: link.listeningGaps,
            // Alive when the connection went (heard within the lost timeout before it), silent since.
            silentSinceOutage: link.lastOutage.map { pods.silent(since: $0, lostAfter: lostAfter) } ?? 0,
            stillUnsettled: r.stillUnsettled)
    }

    private func state(_ s: MonitorSnapshot, at time: Instant) -> QueueState {
        guard depth.sampled else { return .connecting }
        guard depth.counts != nil else { return .queueMissing }
        if s.ready == 0 && s.inFlight == 0 { return pods.workSeen || depth.workSeen ? .drained : .waitingForWork }
        if depth.rising { return .loading }
        let someoneWorking = s.pods.contains { $0.live && $0.state == .working }
        if let since = history.lastChange.time, time - since >= stalledAfter && (s.consumers == 0 || !someoneWorking) { return .stalled }
        return .draining
    }
}
