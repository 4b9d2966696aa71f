import Core

/// The processor's side of the work queue: whether it consumes, the items delivered but not yet
/// started, and — while it holds nothing — when to look at the queue and what the drain barrier
/// makes of what it sees. Pure: the processor asks the broker and tells this the answers.
struct Intake {
    /// The consumer on the work queue, nil while not consuming (idle, stopping, reconnecting).
    private(set) var consumerTag: String?
    /// A delivery not started yet, and when it arrived (the broker's consumer_timeout runs from then).
    struct Waiting {
        var delivery: Delivery
        var arrivedAt: Instant
    }
    /// Delivered but not started (prefetch above 1), oldest first.
    private var queue: [Waiting] = []
    /// The waiting deliveries, oldest first (a view: counting or reading one copies nothing).
    var waiting: LazyMapSequence<[Waiting], Delivery> { queue.lazy.map(\.delivery) }
    /// The last delivery or settlement: an idle consumer looks at the queue `idleCheckDelay` after.
    private(set) var lastActivity: Instant
    /// When the next passive declare is due while not consuming.
    private(set) var nextPoll: Instant
    private var barrier: DrainBarrier

    /// Time without deliveries, holding nothing, before checking whether the queue is empty.
    static let idleCheckDelay: Duration = .milliseconds(100)
    /// Time between passive declares while idle.
    static let pollInterval: Duration = .milliseconds(500)
    /// Time from an empty sample to the one that confirms it. With the two above, every
    /// processor exits within 0.1 + 0.5 + 0.2 s of the last acknowledgement anywhere (quorum
    /// queues: samples go on every 0.5 s until `DrainBarrier.quorumEmptySpan` has passed, 2.8 s).
    static let confirmInterval: Duration = .milliseconds(200)
    /// Time between looks at the queue while work runs: a consumer is not told that its
    /// queue was deleted (the clients do not announce consumer_cancel_notify, see the shim),
    /// and a long command would otherwise run on for an item that is gone.
    static let busyCheckInterval: Duration = .seconds(2)
    /// When the next look at the queue is due while work runs.
    private(set) var nextBusyCheck: Instant

    /// `quorum`: a quorum queue, whose consumers on a lost node stay counted and whose counts
    /// read 0 while it elects a leader (`DrainBarrier`).
    init(startedAt: Instant, waitForWork: Duration, quorum: Bool = false) {
        lastActivity = startedAt
        nextPoll = startedAt
        nextBusyCheck = startedAt
        barrier = DrainBarrier(startedAt: startedAt, waitForWork: waitForWork, quorum: quorum)
    }

    /// What to do next about the queue while this processor holds nothing.
    enum IdleStep: Equatable {
        /// Nothing yet.
        case none
        /// Consuming but quiet: see whether the queue still has ready items.
        case checkWhileConsuming
        /// Not consuming: take a drain-barrier sample.
        case sample
    }

    func idleStep(now: Instant) -> IdleStep {
        if consumerTag != nil { return now - lastActivity >= Self.idleCheckDelay ? .checkWhileConsuming : .none }
        return now >= nextPoll ? .sample : .none
    }

    /// When `idleStep` may next say something other than `.none`.
    var nextIdleCheck: Instant { consumerTag != nil ? lastActivity + Self.idleCheckDelay : nextPoll }

    /// True when a look at the queue is due while work runs; the next one is then scheduled.
    mutating func busyCheckDue(now: Instant) -> Bool {
        guard now >= nextBusyCheck else { return false }
        nextBusyCheck = now + Self.busyCheckInterval
        return true
    }

    /// A consumer was registered on the work queue.
    mutating func consuming(tag: String, now: Instant) {
        consumerTag = tag
        lastActivity = now
    }

    /// The consumer was cancelled by us (stopping) or is gone with its connection.
    mutating func stoppedConsuming() {
        consumerTag = nil
    }

    /// The consumer was cancelled because the queue looked empty: samples start now, afresh.
    mutating func leftEmptyQueue(now: Instant) {
        consumerTag = nil
        barrier.reset()
        nextPoll = now
    }

    /// The broker cancelled the consumer (queue deleted, leader lost): look at the queue at once.
    mutating func cancelledByBroker() {
        consumerTag = nil
        nextPoll = lastActivity
    }

    /// A delivery arrived for the work; it waits for a slot.
    mutating func delivered(_ delivery: Delivery, now: Instant) {
        arrived(now: now)
        queue.append(Waiting(delivery: delivery, arrivedAt: now))
    }

    /// A delivery arrived (kept here or returned at once): work was seen.
    mutating func arrived(now: Instant) {
        lastActivity = now
        barrier.workSeen()
    }

    /// Work ended or was consulted: the queue is not idle.
    mutating func touched(now: Instant) {
        lastActivity = now
    }

    /// When the oldest waiting delivery arrived.
    var nextArrival: Instant? { queue.first?.arrivedAt }

    /// The oldest waiting delivery, taken.
    mutating func takeNext() -> Delivery { queue.removeFirst().delivery }

    /// Every waiting delivery, taken (stopping: they go back to the queue).
    mutating func takeAll() -> [Delivery] {
        defer { queue.removeAll() }
        return queue.map(\.delivery)
    }

    /// The waiting deliveries that arrived before `cutoff`, taken: they waited so long for a
    /// slot that the broker's consumer_timeout would end them before their work could.
    mutating func takeArrived(before cutoff: Instant) -> [Delivery] {
        let count = queue.prefix { $0.arrivedAt < cutoff }.count
        defer { queue.removeFirst(count) }
        return queue.prefix(count).map(\.delivery)
    }

    /// Whether this sample should also count the consumers of `QUEUE.stopping`.
    func wantsStoppingSample(after queue: QueueCounts, now: Instant) -> Bool {
        barrier.wantsStoppingSample(after: queue, now: now)
    }

    /// The broker connected to announced `version` (the lost-consumer proof's window depends on it).
    mutating func brokerVersion(_ version: String?) { barrier.brokerVersion(version) }

    /// Seconds without a pulse after which counted consumers are taken as lost.
    var lostConsumerWindow: Duration { barrier.lostConsumerWindow }

    /// Set when the barrier took the consumers the broker counts as lost with a node: how many.
    var lostConsumers: Int? { barrier.lostConsumers }

    /// One drain-barrier sample taken while not consuming (`stopping`: the consumers of
    /// `QUEUE.stopping`, when sampled); schedules the next.
    mutating func observe(_ counts: QueueCounts, stopping: Int? = nil, now: Instant) -> DrainBarrier.Decision {
        let decision = barrier.observe(counts, stopping: stopping, now: now)
        if decision == .wait { nextPoll = now + (barrier.awaitsConfirmation ? Self.confirmInterval : Self.pollInterval) }
        return decision
    }

    /// After a reconnect: the old consumer and its deliveries are gone (the broker requeued
    /// them), and the samples start afresh.
    mutating func reconnected() {
        consumerTag = nil
        queue.removeAll()
        barrier.reset()
    }
}
