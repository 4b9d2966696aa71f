import Core
import Platform
import AMQPClient

/// Everything between "the work on an item ended" and "the broker has its ack or its copy":
/// acknowledgements (batched, paced, confirmed with a `basic.qos`), copies on their way
/// (retries, dead letters, returns) and their confirms, the repeat notes the progress events
/// carry, the counts, and what a lost connection leaves of all that. It owns that state; the
/// loop hands it the connections (`BrokerLinks`) on each call, and it writes the progress event
/// that counts what it is about to acknowledge through `reportCounts`, which the loop provides.
final class Settlement {
    /// The cumulative counts; they move only here.
    private(set) var stats = ProcessorStats()
    /// Every unsettled delivery of this connection and the finished ones to acknowledge.
    private var acks = AckBatcher()
    /// Holds acknowledgements a moment while other items run (each flush costs an event).
    private var pacing = AckPacing()
    /// Copies on their way, their originals still held.
    private var moves = PendingMoves()
    /// Whether the broker blocks publishing, and when the publishing connection is due a read.
    private var publishing = PublishingWatch()
    /// What the progress events name so that wqtop can take repeated counts out (see `RepeatNotes`).
    private var notes = RepeatNotes()

    /// The prefetch (the pacing's window, and the `basic.qos` that syncs), the attempts, the
    /// grace and the pod's name for the log lines and a dead letter's headers.
    let config: ProcessorConfiguration
    let log: Log
    let clock: any LoopClock
    /// Where the events it needs go (the loop; a recorder in tests).
    weak var reports: (any SettlementReports)?

    init(config: ProcessorConfiguration, log: Log, clock: any LoopClock) {
        self.config = config
        self.log = log
        self.clock = clock
    }

    /// The work queue (retries, returns) and the dead-letter queue.
    var topology: Topology { Topology(config.connection) }
    var policy: FailurePolicy { FailurePolicy(maxAttempts: config.maxAttempts) }
    private var prefetch: Int { config.prefetch }
    /// Whether `queue` is one of the work queues (a copy there is a retry or a return).
    private func isWorkQueue(_ queue: String) -> Bool { queue != topology.deadLetterQueue }
    /// Progress events are on (no --no-progress): the notes are kept for them.
    private var namesItems: Bool { config.progressExchange != nil }
    private func reportCounts() { reports?.reportCounts() }

    /// Copies on their way (their originals are in hand until confirmed).
    var copiesInFlight: Int { moves.count }
    var holdsCopies: Bool { !moves.isEmpty }
    /// When held acknowledgements are due; nil when none are held.
    var acksDue: Instant? { pacing.deadline }
    /// Why the broker blocks publishing, as last read; nil while it accepts.
    var publishingBlockedFor: String? { publishing.blockedFor }

    // MARK: - What the loop tells it

    /// A delivery arrived: unsettled until it is acknowledged or copied; a returned one, or a
    /// copy, is noted for the events.
    func delivered(_ delivery: Delivery) {
        acks.delivered(delivery.tag)
        guard namesItems else { return }
        let returned = ItemKey.wasReturned(delivery)
        let parent = ItemKey.parent(of: delivery)
        // After a lost connection a delivery without `redelivered` is looked up too (an orphan can
        // come back so after a broker restart), when its key is its own: equal bodies share theirs.
        let lookUp = returned || (notes.hasOrphans && ItemKey.isOwn(delivery))
        guard lookUp || parent != nil else { return }
        notes.delivered(key: lookUp ? ItemKey.of(delivery) : 0, returned: returned, parent: parent, now: clock.now())
    }

    /// Work on an item ended after `duration`; `returned` (stopped, not done) is not timed.
    func workEnded(after duration: Duration, returned: Bool) {
        stats.record(.workEnded(after: duration, returned: returned))
    }

    /// An attempt failed (a retry or a dead letter follows).
    func attemptFailed() {
        stats.record(.attemptFailed)
    }

    /// The work on `delivery` succeeded: acknowledged in batches (`flush`, paced by `pace`);
    /// counted as processed in the event written just before the acknowledgement.
    func succeeded(_ delivery: Delivery, _ links: BrokerLinks) throws {
        acks.succeeded(delivery.tag)
        if namesItems { notes.succeeded(ItemKey.of(delivery)) }
        if acks.pending >= AckPacing.batch { try flush(links) }
    }

    /// After a lost connection: the originals of copies on their way and the finished but
    /// unacknowledged items are back in the queue with it (not done); what was counted or copied
    /// and not known settled may come back, so it is named from now on.
    func connectionLost() {
        moves.removeAll()
        publishing.reset()
        acks.reset()
        notes.connectionLost()
    }

    // MARK: - Acknowledgements

    /// In the loop: acknowledges finished items now, or holds them a moment while the processor
    /// has work at hand without them (see `AckPacing`). `mayHold` is false while stopping and
    /// with --no-progress; nor are they held while the broker blocks publishing (no event to save).
    func pace(_ links: BrokerLinks, now: Instant, waiting: Int, mayHold: Bool) throws {
        let due = pacing.flushNow(
            now: now, pending: acks.pending, unacknowledged: acks.unsettledCount + acks.pending, waiting: waiting,
            prefetch: prefetch)
        if due || !mayHold || links.publish?.blockedReason != nil { try flush(links) }
    }

    /// Acknowledges finished items as the batcher says (never past an unsettled one), after the
    /// progress event that counts them was written on the publishing connection: a kill -9 in
    /// between makes the count one too high for an item the broker then delivers again, never
    /// too low.
    func flush(_ links: BrokerLinks) throws {
        guard acks.pending > 0, let connection = links.consume else { return }
        stats.record(.acknowledging(count: acks.pending))
        notes.counting()
        reportCounts()
        for ack in acks.flush() { try connection.ack(ack.tag, multiple: ack.multiple) }
        notes.succeededAcknowledged(now: clock.now())
        try sync(links)
    }

    /// Makes a synchronous call on the consuming channel (a basic.qos with the same prefetch as
    /// the consumers': per shard, since it applies to the channel's next consumers)
    /// when acknowledgements wait for one (or `force` and any do): the broker handles a channel's
    /// frames in order, so once it answers, it has every acknowledgement written before, and
    /// those messages can no longer come back. Then the events stop naming them.
    func sync(_ links: BrokerLinks, force: Bool = false) throws {
        guard notes.needsSync || (force && notes.hasUnsynced), let connection = links.consume else { return }
        try connection.setPrefetch(config.prefetchPerShard)
        notes.synced()
    }

    /// In the loop: syncs when acknowledgements the events still name were written a moment ago
    /// (`RepeatNotes.syncDelay`).
    func syncWhenDue(_ links: BrokerLinks, now: Instant) throws {
        try sync(links, force: notes.hasUnsynced && now - (notes.acknowledgedAt ?? now) >= RepeatNotes.syncDelay)
    }

    // MARK: - Progress events

    /// The repeat notes for the event about to be sent (see `RepeatNotes.forEvent`).
    func notesForEvent(now: Instant) -> RepeatNotes.EventLists? {
        notes.forEvent(now: now)
    }

    /// The event with `lists` was written.
    func eventSent(_ lists: RepeatNotes.EventLists) {
        notes.sent(lists)
    }

    // MARK: - Copies

    /// Queues copies of deliveries for `queue` (see `PendingMoves`) and sends what it can now.
    /// Each copy carries a key of its own and its original's (`ItemKey`); a copy to the work queue
    /// is announced in an event before it is published (see `RepeatNotes`).
    func move(
        _ list: [(Delivery, [(String, HeaderValue)])], to queue: String, count: PendingMoves.Count = .none, _ links: BrokerLinks
    ) throws {
        for (delivery, headers) in list {
            let parent = ItemKey.of(delivery)
            let keys: [(String, HeaderValue)] = [
                (ItemKey.copyHeader, .string(ItemKey.hex(ItemKey.random()))), (ItemKey.copyOfHeader, .string(ItemKey.hex(parent))),
            ]
            moves.add(delivery, to: queue, headers: headers + keys, count: count)
            if namesItems && isWorkQueue(queue) { notes.copying(parent) }
        }
        try pump(links, now: clock.now())
    }

    /// Reads the publishing connection (confirms, connection.blocked) when `read` says it has
    /// something, copies wait, or a second passed (its heartbeats), publishes waiting copies
    /// unless the broker blocks publishing, and acknowledges the originals of confirmed copies,
    /// after the progress event that counts them (retried, dead-lettered) was written.
    func pump(_ links: BrokerLinks, now: Instant, read: Bool = true) throws {
        guard let publisher = links.publish, let connection = links.consume else { return }
        let service = publishing.serviceDue(now: now)
        guard read || service || !moves.isEmpty else { return }
        try publisher.readAvailable(heartbeats: service)
        switch publishing.observe(blockedReason: publisher.blockedReason) {
        case .blocked(let reason):
            log.always("the broker blocks publishing (connection.blocked: \(reason)); work goes on, and the \(moves.unpublished) items to retry, dead-letter or return wait until it resumes")
        case .resumed(let reason):
            log.always("the broker accepts publishing again (it blocked for: \(reason)); \(moves.unpublished) waiting items are moved now")
        case nil:
            break
        }
        if publishing.blockedFor != nil {
            moves.restartClocks(now: now)
        } else {
            try publishWaiting(on: publisher, now: now)
        }
        let confirmed = moves.takeConfirmed { publisher.confirmTracker.isConfirmed($0) }
        for move in confirmed {
            stats.record(.copyConfirmed(move.count))
            if namesItems { notes.copied(ItemKey.of(move.delivery), toWorkQueue: isWorkQueue(move.queue)) }
        }
        // Counted before acknowledged: a kill -9 in between runs the item again (counted twice),
        // it never loses a count.
        if confirmed.contains(where: { $0.count != .none }) { reportCounts() }
        for move in confirmed {
            try connection.ack(move.delivery.tag)
            acks.settledElsewhere(move.delivery.tag)
        }
        if !confirmed.isEmpty {
            notes.movedAcknowledged(now: now)
            try sync(links)
        }
        // A broker that takes copies but never confirms them (and does not say it blocks):
        // given up like a lost connection; the originals come back with it.
        if publisher.blockedReason == nil, let oldest = moves.oldestUnconfirmed, now - oldest > AMQPConnection.confirmTimeout {
            throw WorkQueueError(.connectionLost, "no confirm from the broker at \(publisher.endpoint) within \(Int(AMQPConnection.confirmTimeout.inSeconds)) s for an item's copy")
        }
    }

    /// Publishes the copies not yet sent, one at a time, looking for connection.blocked in
    /// between: a publish into a blocked connection waits in the kernel once its buffers are full.
    private func publishWaiting(on publisher: any WorkBroker, now: Instant) throws {
        // Copies to the work queue are named as copying before they exist.
        if notes.copyingUnannounced && moves.unpublished > 0 { reportCounts() }
        try moves.publishWaiting(now: now) { move in
            try publisher.readAvailable()
            guard publisher.blockedReason == nil else { return nil }
            try move.delivery.body.withUnsafeBytes {
                try publisher.publish(
                    routingKey: move.queue, body: $0, properties: move.delivery.properties, headers: move.headers,
                    dropping: FailurePolicy.staleOnCopy)
            }
            return publisher.confirmTracker.published
        }
    }

    /// Before leaving on an error: gives copies already on their way up to `limit` (on the
    /// loop's clock) to be confirmed and their originals acknowledged, so that the queue does not
    /// get both back.
    func settleCopies(within limit: Duration, _ links: BrokerLinks) {
        let deadline = clock.now() + limit
        // Not when the broker blocks publishing, nor after a copy was refused (nothing more is
        // confirmed on that channel then).
        while !moves.isEmpty && clock.now() < deadline && links.publish?.blockedReason == nil
            && links.publish?.confirmTracker.failed == false
        {
            do { try pump(links, now: clock.now()) } catch { return }
            if !moves.isEmpty { clock.sleep(for: .milliseconds(10)) }
        }
    }
}
