import Core
import Platform
import AMQPClient
/// Publishes a processor's progress events: on start, on a state change (at most five a
/// second) and once a second while alive. Publishing never waits for the broker and never
/// fails the work: when the exchange cannot be declared, events are off for that connection.
package struct ProgressPublisher {
    /// The fanout exchange; nil when progress events are switched off.
    private var target: EventExchange?
    private var event: ProgressEvent
    private var meter = RateMeter(window: .seconds(10))
    private var lastSent: Instant?
    /// The most items held at once since the last event.
    private var peakInHand = 0

    /// Time between events while nothing changes, and the least between two events.
    static let period: Duration = .seconds(1)
    static let minimumGap: Duration = .milliseconds(200)

    /// Failure events that may be sent now, refilled at `FailureEvent.perSecond`, and those skipped.
    private var failureTokens = FailureEvent.perSecond
    private var lastRefill: Instant?
    private var skippedFailures = 0

    package init(exchange: String?, queue: String, pod: String) {
        self.target = exchange.map(EventExchange.init)
        var generator = SystemRandomNumberGenerator()
        let instance = String(UInt32.random(in: .min ... .max, using: &generator), radix: 16)
        self.event = ProgressEvent(queue: queue, pod: pod, instance: instance, state: .starting, startedAt: WallClock.now())
    }

    /// Declares the exchange on a new connection; returns why events are off, the first time
    /// they are (see `EventExchange`).
    package mutating func prepare(on connection: any WorkBroker) -> WorkQueueError? {
        target?.prepare { (name, passive) throws(WorkQueueError) in try connection.declareFanoutExchange(name, passive: passive) }
    }

    /// Whether events are asked for (not with --no-progress). A connection on which the exchange
    /// could not be declared sends none even so (`EventExchange`).
    package var isOn: Bool { target?.name != nil }

    /// Sends an event when one is due (or `force`), with the repeat notes `notes` gives; true when
    /// it was written. Only a lost connection is thrown.
    @discardableResult
    package mutating func update(
        state: ProcessorState, stats: ProcessorStats, inHand: Int, now: Instant,
        on connection: (any WorkBroker)?, force: Bool = false, exitCode: Int32? = nil, consumerTimeout: ConsumerTimeout? = nil,
        notes: () -> RepeatNotes.EventLists? = { nil },
        current: () -> (label: String, runningFor: Duration?)?
    ) throws -> Bool {
        guard let exchange = target?.name else { return false }  // --no-progress: nothing to keep either
        meter.record(stats.processed, at: now)
        peakInHand = max(peakInHand, inHand)
        guard let connection else { return false }
        let changed = state != event.state
        let since = lastSent.map { now - $0 }
        let due = since.map { $0 >= Self.period || changed && $0 >= Self.minimumGap } ?? true
        guard force || due else { return false }
        event.state = state
        event.exitCode = exitCode
        event.processed = stats.processed
        event.failed = stats.failedAttempts
        event.retried = stats.retried
        event.deadLettered = stats.deadLettered
        // While working, the most held since the last event: a snapshot would mostly catch the
        // instant between two items. Otherwise what is held now (nothing, once it finished).
        event.inHand = state == .working ? peakInHand : inHand
        let item = current()
        event.current = item?.label
        event.runningFor = item?.runningFor.map { ($0.inSeconds * 1000).rounded() / 1000 }
        event.durations = stats.durations.count > 0 ? stats.durations.summary : nil
        event.consumerTimeoutMS = consumerTimeout?.milliseconds
        event.rate = (meter.rate * 10).rounded() / 10
        if let lists = notes() {
            event.unsettled = lists.unsettled.map(ItemKey.hex)
            event.copying = lists.copying.isEmpty ? nil : lists.copying.map(ItemKey.hex)
            event.redelivered = lists.returned.isEmpty ? nil : lists.returned.map(ItemKey.hex)
            event.copies = lists.copies.isEmpty ? nil : lists.copies.map(ItemKey.hex)
            event.omitted = lists.omitted > 0 ? lists.omitted : nil
            event.redeliveredSeen = lists.returnedTotal > 0 ? lists.returnedTotal : nil
            event.copiesSeen = lists.copiesTotal > 0 ? lists.copiesTotal : nil
            event.orphansBack = lists.orphansBack.isEmpty ? nil : lists.orphansBack.map(ItemKey.hex)
            event.orphansBackSeen = lists.orphansBackTotal > 0 ? lists.orphansBackTotal : nil
        }
        event.sentAt = WallClock.now()
        // Not written while the broker blocks publishing: `seq` counts only events written, so
        // a reader that misses one sees a gap.
        guard try connection.publishTransient(exchange: exchange, body: event.encoded()) else { return false }
        event.seq += 1
        lastSent = now
        peakInHand = inHand
        return true
    }

    /// Sends a failure event for one failed attempt, at most `FailureEvent.perSecond` a second (the
    /// ones beyond are counted in the next event's `skipped`). Never waits and never fails the work.
    package mutating func failed(
        item: String, attempt: Int, maxAttempts: Int, outcome: FailureEvent.Outcome, reason: String, exitStatus: Int?,
        now: Instant, on connection: (any WorkBroker)?
    ) {
        guard let exchange = target?.name, let connection else { return }
        // Not sent while the broker blocks publishing (publishTransient would skip it): counted.
        guard connection.blockedReason == nil else {
            skippedFailures += 1
            return
        }
        let refill = lastRefill.map { (now - $0).inSeconds * FailureEvent.perSecond } ?? FailureEvent.perSecond
        failureTokens = min(FailureEvent.perSecond, failureTokens + refill)
        lastRefill = now
        guard failureTokens >= 1 else {
            skippedFailures += 1
            return
        }
        let failure = FailureEvent(
            queue: event.queue, pod: event.pod, instance: event.instance, item: item, attempt: min(attempt, maxAttempts),
            maxAttempts: maxAttempts, outcome: outcome, reason: reason, exitStatus: exitStatus, skipped: skippedFailures,
            sentAt: WallClock.now())
        guard (try? connection.publishTransient(exchange: exchange, body: failure.encoded())) != nil else { return }
        failureTokens -= 1
        skippedFailures = 0
    }
}
