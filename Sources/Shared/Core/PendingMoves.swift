/// Copies of items on their way to another queue (a retry, a dead letter, an item returned on
/// SIGTERM, a restamp): published on the publishing connection, and only once the broker has
/// confirmed a copy is its original acknowledged. Until then the original stays unsettled, so the
/// item is never absent from both queues; other items go on meanwhile (a resource alarm may hold
/// publishing back for long).
package struct PendingMoves {
    /// What a confirmed move adds to the processor's counts.
    package enum Count: Sendable {
        case none, retried, deadLettered
    }

    package struct Move {
        package let delivery: Delivery
        package let queue: String
        package let headers: [(String, HeaderValue)]
        /// Counted once the copy is confirmed, in an event written before the original's ack.
        package var count: Count = .none
        /// The publish's confirm tag once published, and when.
        package var confirmTag: UInt64?
        package var publishedAt: Instant?
    }

    package private(set) var moves: [Move] = []

    package init() {}

    package var isEmpty: Bool { moves.isEmpty }
    package var count: Int { moves.count }

    /// Not published yet (the broker blocks publishing, or they were just added).
    package var unpublished: Int { moves.count { $0.confirmTag == nil } }

    package mutating func add(_ delivery: Delivery, to queue: String, headers: [(String, HeaderValue)], count: Count = .none) {
        moves.append(Move(delivery: delivery, queue: queue, headers: headers, count: count))
    }

    /// Publishes the moves not yet published, in order, with `publish`, which returns the
    /// confirm tag, or nil to stop (the broker began to block publishing).
    package mutating func publishWaiting(now: Instant, _ publish: (Move) throws -> UInt64?) rethrows {
        for i in moves.indices where moves[i].confirmTag == nil {
            guard let tag = try publish(moves[i]) else { return }
            moves[i].confirmTag = tag
            moves[i].publishedAt = now
        }
    }

    /// The broker blocks publishing: confirms may rightly take that long, the clocks start again.
    package mutating func restartClocks(now: Instant) {
        for i in moves.indices where moves[i].publishedAt != nil { moves[i].publishedAt = now }
    }

    /// When the oldest copy still waiting for its confirm was published.
    package var oldestUnconfirmed: Instant? { moves.compactMap(\.publishedAt).min() }

    /// Removes and returns the moves whose copies the broker confirmed.
    package mutating func takeConfirmed(_ isConfirmed: (UInt64) -> Bool) -> [Move] {
        var done: [Move] = []
        moves.removeAll { move in
            guard let tag = move.confirmTag, isConfirmed(tag) else { return false }
            done.append(move)
            return true
        }
        return done
    }

    /// The connections were lost: the originals are back in the queue already.
    package mutating func removeAll() {
        moves.removeAll()
    }
}
