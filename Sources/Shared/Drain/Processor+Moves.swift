import Core
import Platform
import AMQPClient
extension Processor {
    /// Queues copies of deliveries for `queue` (see `PendingMoves`) and sends what it can now.
    /// Each copy carries a key of its own and its original's (`ItemKey`); a copy to the work queue
    /// is announced in an event before it is published (see `RepeatNotes`).
    func move(_ list: [(Delivery, [(String, HeaderValue)])], to queue: String, count: PendingMoves.Count = .none) throws {
        for (delivery, headers) in list {
            let parent = ItemKey.of(delivery)
            let keys: [(String, HeaderValue)] = [
                (ItemKey.copyHeader, .string(ItemKey.hex(ItemKey.random()))), (ItemKey.copyOfHeader, .string(ItemKey.hex(parent))),
            ]
            moves.add(delivery, to: queue, headers: headers + keys, count: count)
            if progress.isOn && queue == topology.queue { notes.copying(parent) }
        }
        try pumpMoves()
    }

    /// Reads the publishing connection (confirms, connection.blocked) when `read` says it has
    /// something, copies wait, or a second passed (its heartbeats), publishes waiting copies
    /// unless the broker blocks publishing, and acknowledges the originals of confirmed copies,
    /// after the progress event that counts them (retried, dead-lettered) was written.
    func pumpMoves(read: Bool = true) throws {
        guard let publisher, let connection else { return }
        let now = clock.now()
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
            // Copies to the work queue are named as copying before they exist.
            if notes.copyingUnannounced && moves.unpublished > 0 { reportCounts() }
            try moves.publishWaiting(now: now) { move in
                // One at a time, looking for connection.blocked in between: a publish into a
                // blocked connection waits in the kernel once its buffers are full.
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
        let confirmed = moves.takeConfirmed { publisher.confirmTracker.isConfirmed($0) }
        for move in confirmed {
            stats.record(.copyConfirmed(move.count))
            if progress.isOn { notes.copied(ItemKey.of(move.delivery), toWorkQueue: move.queue == topology.queue) }
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
            try syncAcks()
        }
        // A broker that takes copies but never confirms them (and does not say it blocks):
        // given up like a lost connection; the originals come back with it.
        if publisher.blockedReason == nil, let oldest = moves.oldestUnconfirmed, now - oldest > AMQPConnection.confirmTimeout {
            throw WorkQueueError(.connectionLost, "no confirm from the broker at \(publisher.endpoint) within \(Int(AMQPConnection.confirmTimeout.inSeconds)) s for an item's copy")
        }
    }

    /// Before leaving on an error: gives copies already on their way up to `limit` to be
    /// confirmed and their originals acknowledged, so that the queue does not get both back.
    func settleMoves(within limit: Duration) {
        let deadline = clock.now() + limit
        // Not when the broker blocks publishing, nor after a copy was refused (nothing more is
        // confirmed on that channel then).
        while !moves.isEmpty && clock.now() < deadline && publisher?.blockedReason == nil
            && publisher?.confirmTracker.failed == false
        {
            do { try pumpMoves() } catch { return }
            if !moves.isEmpty { Sleep.for(.milliseconds(10)) }
        }
    }
}
