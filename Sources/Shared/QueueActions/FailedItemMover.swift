import Core
import Platform
import AMQPClient
/// `loader --from-failed`: moves the items of the dead-letter queue back into the work queue with a
/// fresh attempt count, keeping their own properties and headers; with shards, into the shards
/// round-robin (`Topology.shardQueue`), the first to `QUEUE.0`. Each item is acknowledged on the dead-letter queue only after the broker
/// confirmed its copy in the work queue, so a crash duplicates at worst and never loses.
/// The moves count as a load: they send load events like `Loader` (to `progressExchange`).
package struct FailedItemMover {
    package let settings: ConnectionSettings
    package let log: Log
    package let progressExchange: String?

    package init(settings: ConnectionSettings, log: Log, progressExchange: String? = nil) {
        self.settings = settings
        self.log = log
        self.progressExchange = progressExchange
    }

    /// Moves what the dead-letter queue holds when it starts; returns how many were moved.
    package func run() throws -> Int {
        let topology = Topology(settings)
        log.info("connecting to work queue \(settings.firstAddress.host) \(settings.firstAddress.port)")
        let connection = try retryWhileUnreachable(within: settings.connectTimeout, retrying: log.unreachable) {
            try AMQPConnection(settings: settings)
        }
        defer { connection.close() }
        try topology.declare(using: connection.declareQueue, orFind: connection.inspectQueue)
        let moved = try moveAll(on: connection) { error in
            log.always("load events are off on this connection: \(log.describe(error))")
        }
        guard let moved else {
            log.always("no items in \(topology.deadLetterQueue): nothing to move")
            return 0
        }
        log.always("moved \(moved) items from \(topology.deadLetterQueue) back to \(topology.workQueuesText)")
        return moved
    }

    /// Moves what the dead-letter queue holds when it starts, over `connection` (a connection of
    /// its own: it consumes on the work channel and publishes with confirms). Returns how many
    /// were moved, nil when none waited; `eventsOff` hears why load events cannot be sent.
    /// `blockedLimit`, when given, bounds each wait for confirms while the broker blocks publishing.
    package func moveAll(on connection: AMQPConnection, blockedLimit: Duration? = nil, eventsOff: (WorkQueueError) -> Void) throws -> Int? {
        let topology = Topology(settings)
        let waiting = try connection.inspectQueue(topology.deadLetterQueue)?.ready ?? 0
        guard waiting > 0 else { return nil }
        try connection.enableConfirms()
        try connection.setPrefetch(500)
        var events = LoadEventPublisher(exchange: progressExchange, queue: topology.queue, total: waiting)
        if let error = events.prepare(on: connection) { eventsOff(error) }
        let consumer = try connection.consume(queue: topology.deadLetterQueue)
        var moved = 0
        var lastTag: UInt64 = 0
        var unacked = 0
        func settle() throws {
            guard unacked > 0 else { return }
            try connection.waitForConfirms(blockedLimit: blockedLimit)
            try connection.ack(lastTag, multiple: true)
            unacked = 0
            events.update(confirmed: moved, now: MonotonicClock.now(), on: connection)
        }
        while moved < waiting, let event = try connection.nextEvent(timeout: .seconds(5)) {
            guard case .delivery(let delivery) = event else { break }
            try Self.publishFreshCopy(of: delivery, to: topology, shard: moved, on: connection)
            moved += 1
            unacked += 1
            lastTag = delivery.tag
            if unacked >= 250 { try settle() }
        }
        try settle()
        events.update(confirmed: moved, now: MonotonicClock.now(), on: connection, final: true)
        try connection.cancel(consumerTag: consumer)
        return moved
    }

    /// Publishes a dead letter back into the work queue, `topology.shardQueue(shard)` (unconfirmed
    /// yet: the caller waits for the confirm before acknowledging the original). The item's own
    /// properties and headers stay; the processor's bookkeeping goes, so the copy starts with a
    /// fresh attempt count. Callers pass a running count as `shard` to spread moves round-robin.
    package static func publishFreshCopy(
        of delivery: Delivery, to topology: Topology, shard: Int, on connection: AMQPConnection
    ) throws(WorkQueueError) {
        var failure: WorkQueueError?
        delivery.body.withUnsafeBytes { body in
            do throws(WorkQueueError) {
                try connection.publish(
                    routingKey: topology.shardQueue(shard), body: body, properties: delivery.properties, dropping: FailurePolicy.bookkeeping)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }
}
