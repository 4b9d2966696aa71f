/// The queues every executable agrees on: the work queue, its dead-letter queue `QUEUE.failed`
/// and `QUEUE.stopping` (see the drain barrier), all durable and of the configured type. One declaration, shared by loader and processor.
public struct Topology: Sendable, Equatable {
    public var queue: String
    public var queueType: QueueType

    public init(queue: String, queueType: QueueType) {
        self.queue = queue
        self.queueType = queueType
    }

    public init(_ settings: ConnectionSettings) {
        self.init(queue: settings.queue, queueType: settings.queueType)
    }

    /// Where items go after their last failed attempt.
    public var deadLetterQueue: String { queue + ".failed" }

    /// Where a processor that stops (SIGTERM) while it still holds items stands as a consumer
    /// until it has returned them, so that idle peers do not take the work for done. Always empty.
    public var stoppingQueue: String { queue + ".stopping" }

    /// Where processors publish progress events by default (a non-durable fanout exchange).
    public var progressExchange: String { queue + ".progress" }

    /// The queue arguments; a classic queue gets none, so queues made by other tools match.
    public var arguments: [(String, String)] {
        queueType == .quorum ? [("x-queue-type", "quorum")] : []
    }

    /// Declares the three queues; returns the work queue's counts.
    @discardableResult
    public func declare(on connection: AMQPConnection) throws -> QueueCounts {
        let counts = try connection.declareQueue(queue, arguments: arguments)
        _ = try connection.declareQueue(deadLetterQueue, arguments: arguments)
        _ = try connection.declareQueue(stoppingQueue, arguments: arguments)
        return counts
    }
}
