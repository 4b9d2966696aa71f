import Core
import AMQPClient
/// `loader --from-failed`: moves the items of the dead-letter queue back into the work queue with a
/// fresh attempt count, keeping their own properties and headers. Each item is acknowledged on the dead-letter queue only after the broker
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
        log.info("connecting to work queue \(settings.host) \(settings.port)")
        let connection = try retryWhileUnreachable(within: settings.connectTimeout, retrying: log.unreachable) {
            try AMQPConnection(settings: settings)
        }
        defer { connection.close() }
        try topology.declare(using: connection.declareQueue)
        let waiting = try connection.inspectQueue(topology.deadLetterQueue)?.ready ?? 0
        guard waiting > 0 else {
            log.always("no items in \(topology.deadLetterQueue): nothing to move")
            return 0
        }
        try connection.enableConfirms()
        try connection.setPrefetch(500)
        var events = LoadEventPublisher(exchange: progressExchange, queue: topology.queue, total: waiting)
        if let error = events.prepare(on: connection) {
            log.always("load events are off on this connection: \(log.describe(error))")
        }
        let consumer = try connection.consume(queue: topology.deadLetterQueue)
        var moved = 0
        var lastTag: UInt64 = 0
        var unacked = 0
        func settle() throws {
            guard unacked > 0 else { return }
            try connection.waitForConfirms()
            try connection.ack(lastTag, multiple: true)
            unacked = 0
            events.update(confirmed: moved, now: MonotonicClock.now(), on: connection)
        }
        while moved < waiting, let event = try connection.nextEvent(timeout: 5) {
            guard case .delivery(let delivery) = event else { break }
            // The item's own properties and headers stay; the failure bookkeeping goes.
            try delivery.body.withUnsafeBytes {
                try connection.publish(
                    routingKey: topology.queue, body: $0, properties: delivery.properties, dropping: FailurePolicy.bookkeeping)
            }
            moved += 1
            unacked += 1
            lastTag = delivery.tag
            if unacked >= 250 { try settle() }
        }
        try settle()
        events.update(confirmed: moved, now: MonotonicClock.now(), on: connection, final: true)
        try connection.cancel(consumerTag: consumer)
        log.always("moved \(moved) items from \(topology.deadLetterQueue) back to \(topology.queue)")
        return moved
    }
}
