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

    /// Declares the three queues with `declareQueue` (name, arguments); returns the work queue's
    /// counts. Loader and processor pass their connection's `declareQueue`.
    @discardableResult
    package func declare(using declareQueue: (String, [(String, String)]) throws -> QueueCounts) throws -> QueueCounts {
        let counts = try declareQueue(queue, arguments)
        _ = try declareQueue(deadLetterQueue, arguments)
        _ = try declareQueue(stoppingQueue, arguments)
        return counts
    }
}
