/// The queues every executable agrees on: the work queue, its dead-letter queue `QUEUE.failed`
/// and `QUEUE.stopping` (see the drain barrier), all durable and of the configured type. One declaration, shared by loader and processor.
package struct Topology: Sendable, Equatable {
    package var queue: String
    package var queueType: QueueType

    package init(queue: String, queueType: QueueType) {
        self.queue = queue
        self.queueType = queueType
    }

    package init(_ settings: ConnectionSettings) {
        self.init(queue: settings.queue, queueType: settings.queueType)
    }

    /// Where items go after their last failed attempt.
    package var deadLetterQueue: String { queue + ".failed" }

    /// Where a processor that stops (SIGTERM) while it still holds items stands as a consumer
    /// until it has returned them, so that idle peers do not take the work for done. Always empty.
    package var stoppingQueue: String { queue + ".stopping" }

    /// Where processors publish progress events by default (a non-durable fanout exchange).
    package var progressExchange: String { queue + ".progress" }

    /// The queue arguments; a classic queue gets none, so queues made by other tools match.
    package var arguments: [(String, String)] {
        queueType == .quorum ? [("x-queue-type", "quorum")] : []
    }

    /// Declares the three queues with `declareQueue` (name, arguments) and returns the work
    /// queue's counts. A declare the broker refuses (a user without configure permission: an
    /// administrator declared the queues) is followed by `inspectQueue`, a passive declare, which
    /// needs no permission and goes on when the queue is there. Only a queue that is missing, or
    /// whose passive declare is refused too, ends it, with what to do.
    @discardableResult
    package func declare(
        using declareQueue: (String, [(String, String)]) throws(WorkQueueError) -> QueueCounts,
        orFind inspectQueue: (String) throws(WorkQueueError) -> QueueCounts?
    ) throws(WorkQueueError) -> QueueCounts {
        var counts = QueueCounts(ready: 0, consumers: 0)
        for name in [queue, deadLetterQueue, stoppingQueue] {
            let found = try Self.declareOrFind(name, arguments, declareQueue, inspectQueue)
            if name == queue { counts = found }
        }
        return counts
    }

    private static func declareOrFind(
        _ name: String, _ arguments: [(String, String)],
        _ declareQueue: (String, [(String, String)]) throws(WorkQueueError) -> QueueCounts,
        _ inspectQueue: (String) throws(WorkQueueError) -> QueueCounts?
    ) throws(WorkQueueError) -> QueueCounts {
        let refusal: WorkQueueError
        do {
            return try declareQueue(name, arguments)
        } catch where error.kind == .accessRefused {
            refusal = error
        }
        let found: QueueCounts?
        do {
            found = try inspectQueue(name)
        } catch where error.kind == .accessRefused {
            throw refusal.appending("; a passive declare of it was refused too")
        }
        guard let found else {
            let what = "queue.declare '\(name)'"
            let why = refusal.message.hasPrefix(what + ": ") ? String(refusal.message.dropFirst(what.count + 2)) : refusal.message
            throw WorkQueueError(.accessRefused, "\(what): the queue does not exist, and creating it was refused (\(why))", remedy: .declareTopology)
        }
        return found
    }
}
