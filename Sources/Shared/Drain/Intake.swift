import Core

/// The processor's side of the work queue: whether it consumes, the items delivered but not yet
/// started, and — while it holds nothing — when to look at the queue and what the drain barrier
/// makes of what it sees. Pure: the processor asks the broker and tells this the answers.
struct Intake {
    /// The consumers on the work queues, tag → queue (one per shard), empty while not consuming
    /// (idle, stopping, reconnecting).
    private(set) var consumerTags: [String: String] = [:]
    /// Every consumer of this connection, tag → work queue, kept after a cancel: deliveries sent
    /// before it still arrive and must know their shard.
    private var queueOfTag: [String: String] = [:]
    /// Consuming from the work queues (every shard: they are registered and cancelled together).
    var isConsuming: Bool { !consumerTags.isEmpty }
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
    /// Busy checks so far: each looks at the next shard in turn.
    private var busyChecks = 0

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
        if isConsuming { return now - lastActivity >= Self.idleCheckDelay ? .checkWhileConsuming : .none }
        return now >= nextPoll ? .sample : .none
    }

    /// When `idleStep` may next say something other than `.none`.
    var nextIdleCheck: Instant { isConsuming ? lastActivity + Self.idleCheckDelay : nextPoll }

    /// True when a look at the queue is due while work runs; the next one is then scheduled.
    mutating func busyCheckDue(now: Instant) -> Bool {
        guard now >= nextBusyCheck else { return false }
        nextBusyCheck = now + Self.busyCheckInterval
        return true
    }

    /// The shard (an index below `shards`) the next busy check looks at; moves on to the next.
    mutating func nextShardToCheck(of shards: Int) -> Int {
        defer { busyChecks += 1 }
        return busyChecks % shards
    }

    /// A consumer was registered on `workQueue` (one of the shards).
    mutating func consuming(tag: String, on workQueue: String, now: Instant) {
        consumerTags[tag] = workQueue
        queueOfTag[tag] = workQueue
        lastActivity = now
    }

    /// The work queue whose consumer `tag` is, nil for a tag of no consumer of this connection.
    func workQueue(consumedBy tag: String) -> String? { queueOfTag[tag] }

    /// The consumers were cancelled by us (stopping) or are gone with their connection.
    mutating func stoppedConsuming() {
        consumerTags = [:]
    }

    /// The consumers were cancelled because the queues looked empty: samples start now, afresh.
    mutating func leftEmptyQueue(now: Instant) {
        consumerTags = [:]
        barrier.reset()
        nextPoll = now
    }

    /// The broker cancelled a consumer (queue deleted, leader lost); the loop cancels the others,
    /// so that consuming again registers one per shard: look at the queues at once.
    mutating func cancelledByBroker() {
        consumerTags = [:]
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
        consumerTags = [:]
        queueOfTag = [:]
        queue.removeAll()
        barrier.reset()
    }
}
