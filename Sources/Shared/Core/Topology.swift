/// The queues every executable agrees on: the work queue (or its shards), its dead-letter queue
/// `QUEUE.failed` and `QUEUE.stopping` (see the drain barrier), all durable and of the configured
/// type. One declaration, shared by loader and processor.
///
/// With `shards` 1 (the default) the work queue is `QUEUE` itself. With N > 1 the work is spread
/// over `QUEUE.0` ... `QUEUE.N-1` (`workQueues`) and `QUEUE` itself is not used; the Job keeps one
/// `QUEUE.failed`, one `QUEUE.stopping` and one `QUEUE.progress` whatever N is.
package struct Topology: Sendable, Equatable {
    /// The Job's queue name: the work queue itself with one shard, the shards' prefix with more.
    package var queue: String
    package var queueType: QueueType
    package var shards: Int

    /// The most shards a Job may have: every idle processor samples each of them.
    package static let maxShards = 64

    package init(queue: String, queueType: QueueType, shards: Int = 1) {
        precondition((1...Self.maxShards).contains(shards), "shards out of range")
        self.queue = queue
        self.queueType = queueType
        self.shards = shards
    }

    package init(_ settings: ConnectionSettings) {
        self.init(queue: settings.queue, queueType: settings.queueType, shards: settings.shards)
    }

    /// The queues that hold work: `[QUEUE]` with one shard, else `QUEUE.0` ... `QUEUE.N-1`.
    package var workQueues: [String] {
        shards == 1 ? [queue] : (0..<shards).map { shardQueue($0) }
    }

    /// The work queue of shard `index` (taken modulo the shard count, so a running counter can
    /// be passed for round-robin).
    package func shardQueue(_ index: Int) -> String {
        shards == 1 ? queue : "\(queue).\(((index % shards) + shards) % shards)"
    }

    /// The work queues as a person reads them in a message: `QUEUE`, or `QUEUE.0 ... QUEUE.N-1`
    /// with shards.
    package var workQueuesText: String {
        shards == 1 ? queue : "\(shardQueue(0)) ... \(shardQueue(shards - 1))"
    }

    /// Whether `name` is one of this Job's work queues.
    package func isWorkQueue(_ name: String) -> Bool {
        workQueues.contains(name)
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

    /// What spreads shards' leaders over a cluster's nodes, instead of putting each on the node
    /// the declaring client is connected to: the new queue goes to the node with the fewest
    /// leaders. A quorum queue reads `x-queue-leader-locator: balanced`; a classic queue on
    /// RabbitMQ 3.10 refuses that argument (406 "invalid arg") and reads the older
    /// `x-queue-master-locator: min-masters`. Both tried on 3.10.8 (docs/sharding.md).
    package var leaderLocator: (String, String) {
        queueType == .quorum ? ("x-queue-leader-locator", "balanced") : ("x-queue-master-locator", "min-masters")
    }

    /// The arguments `name` is declared with: the shards (N > 1) also get `leaderLocator`; one
    /// work queue and `QUEUE.failed` / `QUEUE.stopping` keep `arguments` unchanged, so queues
    /// made before shards existed still match (a declare with other arguments is refused).
    package func arguments(for name: String) -> [(String, String)] {
        shards > 1 && isWorkQueue(name) ? arguments + [leaderLocator] : arguments
    }

    /// The work queue a delivery goes back to (a retry, a return): the shard it came from, else
    /// (not known) the first.
    package func home(of delivery: Delivery) -> String {
        isWorkQueue(delivery.workQueue) ? delivery.workQueue : workQueues[0]
    }

    /// Work queues a tool with another shard count would use and this one never looks at:
    /// `QUEUE.0` with one shard; `QUEUE` and `QUEUE.N` with N. Work found there at the end means
    /// the tools disagree on the shard count (`processor` checks them once, before exiting).
    package var otherShardCountsQueues: [String] {
        shards == 1 ? ["\(queue).0"] : [queue, "\(queue).\(shards)"]
    }

    /// Declares the work queues, `QUEUE.failed` and `QUEUE.stopping` with `declareQueue` (name,
    /// arguments) and returns the work queues' counts (`QueueCounts.adding(shard:)`). A declare the broker refuses (a user without configure permission: an
    /// administrator declared the queues) is followed by `inspectQueue`, a passive declare, which
    /// needs no permission and goes on when the queue is there. Only a queue that is missing, or
    /// whose passive declare is refused too, ends it, with what to do.
    @discardableResult
    package func declare(
        using declareQueue: (String, [(String, String)]) throws(WorkQueueError) -> QueueCounts,
        orFind inspectQueue: (String) throws(WorkQueueError) -> QueueCounts?
    ) throws(WorkQueueError) -> QueueCounts {
        var counts = QueueCounts(ready: 0, consumers: 0)
        for name in workQueues + [deadLetterQueue, stoppingQueue] {
            let found = try Self.declareOrFind(name, arguments(for: name), declareQueue, inspectQueue)
            if isWorkQueue(name) { counts = counts.adding(shard: found) }
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

extension QueueCounts {
    /// These counts with one more shard's: ready items add up; every processor consumes from
    /// every shard, so the consumers are the most any shard counts, not their sum.
    package func adding(shard: QueueCounts) -> QueueCounts {
        QueueCounts(ready: ready + shard.ready, consumers: max(consumers, shard.consumers))
    }
}
