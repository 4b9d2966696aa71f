import Core
import Platform
import AMQPClient
/// The monitor's memory: the latest event of every processor and the queue's depth samples.
/// Pure: events and samples go in with their time, snapshots come out.
package struct MonitorModel: Sendable {
    package let queue: String
    package let endpoint: String
    package let interval: Duration
    /// A processor run: its pod name, its instance id and its start, so two that share an id stay apart.
    private struct PodKey: Hashable {
        var pod: String
        var instance: String
        var startedAt: Double
    }
    private var pods: [PodKey: (event: ProgressEvent, seenAt: Instant, firstSentAt: Double)] = [:]
    /// The latest event of each loader run, by load id.
    private var loads: [String: LoadEvent] = [:]
    private var startedAt: Instant?
    private var counts: QueueCounts?
    private var sampled = false
    private var previousReady: Int?
    private var rising = false
    private var workSeen = false
    /// Items that left the queue, judged by depth alone, for queues whose consumers send no events.
    private var drainedByDepth = 0
    private var lastProgress: (time: Instant?, processed: Int, ready: Int) = (nil, 0, 0)
    private var now = RateMeter(window: .seconds(5))
    private var minute = RateMeter(window: .seconds(60))
    private var depthHistory: [Int] = []
    private var rateHistory: [Double] = []
    package var connectionProblem: String?
    /// Why the broker blocks publishers (a resource alarm, e.g. "low on disk"), while it does.
    package var brokerAlarm: String?
    /// Why no progress events arrive (the broker refused wqtop's private queue), when it did.
    package var eventsOff: String?
    /// Progress messages dropped, cut or clashing with another processor's instance id.
    package private(set) var badEvents = 0
    /// The latest failure events, oldest first, at most `failuresKept`.
    private var failures: [FailureEvent] = []
    /// Failure events received, and those processors said they skipped (rate limit); at most 10^12.
    private var failureEvents = 0
    /// Since when (monotonic) wqtop has listened without a break: a pod silent while wqtop was
    /// disconnected (a broker restart) may have sent events nobody received.
    private var listeningSince: Instant?
    /// Times wqtop listened again after its connection was lost, and when it was last lost.
    private var listeningGaps = 0
    private var lastOutage: Instant?
    /// The processors' repeat notes: which counts a redelivery repeated.
    private var repeats = RepeatLedger<PodKey>()

    /// Samples kept for the history graphs.
    package static let historyLength = 400
    /// Processor runs kept; events of further ones are bad events.
    package static let maxPods = 10_000
    /// Failure events kept for the failures pane and `--json`.
    package static let failuresKept = 100

    package init(queue: String, endpoint: String, interval: Duration) {
        self.queue = queue
        self.endpoint = endpoint
        self.interval = interval
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

    private mutating func accept(_ screened: ScreenedEvent, at time: Instant) {
        if case .load(let load, let cut) = screened { return accept(load, cut: cut) }
        if case .failure(let failure, let cut) = screened { return accept(failure, cut: cut) }
        guard case .accepted(let event, let cut) = screened else {
            if case .rejected = screened { badEvents += 1 }
            return
        }
        guard event.queue == queue else { return }
        let key = PodKey(pod: event.pod, instance: event.instance, startedAt: event.startedAt)
        if cut { badEvents += 1 }
        if let known = pods[key] {
            if known.event.seq > event.seq { return }
        } else {
            guard pods.count < Self.maxPods else {
                if !cut { badEvents += 1 }
                return
            }
            // Another run (pod name or start) with this instance id: kept apart, counted once.
            if !cut && pods.keys.contains(where: { $0.instance == key.instance }) { badEvents += 1 }
        }
        pods[key] = (event, time, pods[key]?.firstSentAt ?? event.sentAt)
        repeats.receive(key, seq: event.seq, notes: RepeatLedger<PodKey>.Notes(event))
        if event.processed > 0 || event.inHand > 0 { workSeen = true }
    }

    /// Keeps a load run's latest event: a repeated or later event of one run replaces the last,
    /// an older one (sent before it) is ignored.
    private mutating func accept(_ event: LoadEvent, cut: Bool) {
        guard event.queue == queue else { return }
        if cut { badEvents += 1 }
        if let known = loads[event.load] {
            if (known.sentAt, known.confirmed) > (event.sentAt, event.confirmed) { return }
        } else if loads.count >= Self.maxPods {
            if !cut { badEvents += 1 }
            return
        }
        loads[event.load] = event
    }

    /// Keeps a failure event among the latest `failuresKept`.
    private mutating func accept(_ event: FailureEvent, cut: Bool) {
        guard event.queue == queue else { return }
        if cut { badEvents += 1 }
        // Each event may say up to 10^12 skipped: the total stops there, short of an overflow.
        failureEvents = min(ProgressEvent.Limits.count, failureEvents + 1 + event.skipped)
        failures.append(event)
        if failures.count > Self.failuresKept { failures.removeFirst(failures.count - Self.failuresKept) }
    }

    /// Items the loaders' runs had confirmed, added up; nil before any load event.
    private var loadedTotal: Int? {
        loads.isEmpty ? nil : loads.values.reduce(0) { $0 + $1.confirmed }
    }

    /// wqtop's connection was lost at `time` (monotonic): events sent from then on are lost to it.
    package mutating func connectionLost(at time: Instant) {
        lastOutage = time
    }

    /// wqtop (re)connected at `time` and listens to events again.
    package mutating func listening(since time: Instant) {
        if listeningSince != nil { listeningGaps += 1 }
        listeningSince = time
    }

    /// Records a depth sample; nil when the queue does not exist.
    package mutating func sample(_ counts: QueueCounts?, at time: Instant) {
        if startedAt == nil { startedAt = time }
        let hadSample = sampled
        sampled = true
        self.counts = counts
        let ready = counts?.ready ?? 0
        if let previous = previousReady {
            rising = ready > previous
            if ready < previous { drainedByDepth += previous - ready }
        }
        previousReady = counts == nil ? nil : ready
        if ready > 0 { workSeen = true }
        let done = totalProcessed
        now.record(done, at: time)
        minute.record(done, at: time)
        if done != lastProgress.processed || ready != lastProgress.ready || !hadSample {
            lastProgress = (time, done, ready)
        }
        depthHistory.append(ready)
        rateHistory.append(now.rate)
        if depthHistory.count > Self.historyLength {
            depthHistory.removeFirst(depthHistory.count - Self.historyLength)
            rateHistory.removeFirst(rateHistory.count - Self.historyLength)
        }
    }

    /// Items done: the pods' counts when any pod reports, else what left the queue.
    private var totalProcessed: Int {
        pods.isEmpty ? drainedByDepth : pods.values.reduce(0) { $0 + $1.event.processed }
    }

    /// The frame at monotonic `time`; `wallTime` (Unix seconds) dates the pods' own clocks.
    package func snapshot(at time: Instant, wallTime: Double = WallClock.now()) -> MonitorSnapshot {
        var s = MonitorSnapshot(queue: queue, endpoint: endpoint)
        s.connectionProblem = connectionProblem
        s.brokerAlarm = brokerAlarm
        s.eventsOff = eventsOff
        s.badEvents = badEvents
        s.elapsed = startedAt.map { (time - $0).inSeconds } ?? 0
        var durations = DurationHistogram()
        for entry in pods.values { if let summary = entry.event.durations { durations.add(summary) } }
        s.itemDurations = durations.count > 0 ? durations : nil
        s.consumerTimeout = pods.values.compactMap(\.event.consumerTimeoutMS).max().map { Double($0) / 1000 }
        s.pods = pods.values.map { entry in
            let e = entry.event
            let silent = (time - entry.seenAt).inSeconds
            // During an alarm processors cannot publish events: silence is not loss then.
            // Silence counts only while wqtop listened (events sent meanwhile were never received).
            let lost = e.state != .finished && time - max(entry.seenAt, listeningSince ?? entry.seenAt) > lostAfter && brokerAlarm == nil
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
        s.failures = failures.reversed().map { FailureRow(event: $0, ago: max(0, wallTime - $0.sentAt)) }
        s.failureEvents = failureEvents
        s.repeatNotes = RepeatSummary(
            repeats: repeats.repeats, missedEvents: repeats.missedEvents, missedNews: repeats.missedNews, podsWithoutNotes: repeats.podsWithoutNotes,
            omitted: repeats.omitted, unresolved: repeats.unresolved, overflowed: repeats.overflowed, listeningGaps: listeningGaps,
            silentSinceOutage: lastOutage.map { outage in
                // Alive when the connection went (heard within the lost timeout before it), silent since.
                pods.values.filter { $0.event.state != .finished && $0.seenAt <= outage && outage - $0.seenAt <= lostAfter }.count
            } ?? 0)
        s.ready = counts?.ready ?? 0
        s.consumers = counts?.consumers ?? 0
        s.inFlight = s.pods.reduce(0) { $0 + $1.inHand }
        s.processed = totalProcessed
        s.failed = s.pods.reduce(0) { $0 + $1.failed }
        s.retried = s.pods.reduce(0) { $0 + $1.retried }
        s.startedAt = (pods.values.map(\.event.startedAt) + loads.values.map(\.startedAt)).min()
        s.deadLettered = s.pods.reduce(0) { $0 + $1.deadLettered }
        s.rateNow = now.rate
        s.rateMinute = minute.rate
        var remaining = s.ready + s.inFlight
        if let loaded = loadedTotal {
            s.loadedTotal = loaded
            // What the loads left to do, or more when the queue holds items no load event told of.
            remaining = max(remaining, loaded - s.done)
        }
        s.eta = remaining == 0 ? 0 : (s.rateNow > 0 ? Double(remaining) / s.rateNow : nil)
        s.depthHistory = depthHistory
        s.rateHistory = rateHistory
        s.state = state(s, at: time)
        let podsEnded = s.pods.allSatisfy { !$0.live }
        // Not while the broker is unreachable: the samples are old, and pods silent meanwhile look lost.
        s.finished = s.state == .drained && podsEnded && (!s.pods.isEmpty || s.consumers == 0) && connectionProblem == nil
        // The Job's own elapsed time: from the first pod's start to now, or to the last finish.
        if let firstStart = pods.values.map(\.event.startedAt).min() {
            let end = s.finished ? pods.values.map(\.event.sentAt).max() ?? wallTime : wallTime
            s.elapsed = max(0, end - firstStart)
        }
        return s
    }

    private func state(_ s: MonitorSnapshot, at time: Instant) -> QueueState {
        guard sampled else { return .connecting }
        guard counts != nil else { return .queueMissing }
        if s.ready == 0 && s.inFlight == 0 { return workSeen ? .drained : .waitingForWork }
        if rising { return .loading }
        let someoneWorking = s.pods.contains { $0.live && $0.state == .working }
        if let since = lastProgress.time, time - since >= stalledAfter && (s.consumers == 0 || !someoneWorking) { return .stalled }
        return .draining
    }
}
