import Testing
import Core
import AMQPClient
import Drain

/// A clock the tests drive: the monotonic clock plus an offset, and the loop's sleeps in
/// `poll(2)` skip ahead to their deadline instead of waiting. Commands still run in real time:
/// each skip leaves `poll(2)` a real moment (`realWait`) for a child's exit or output, so that
/// the skipped time does not outrun what a process does in milliseconds.
final class TestLoopClock: LoopClock {
    private(set) var skipped: Duration = .zero
    let realWait: Duration = .milliseconds(5)

    func now() -> Instant { ContinuousClock.now + skipped }

    func sleepBudget(until deadline: Instant) -> Duration {
        let now = now()
        guard deadline > now else { return .zero }
        skipped += deadline - now
        return min(realWait, deadline - now)
    }

    /// Skips `duration` at once.
    func sleep(for duration: Duration) {
        skipped += duration
    }
}

/// An in-memory broker for the processor's loop: queues of ready messages, unacknowledged
/// deliveries per connection, publisher confirms (at once, or held), a resource alarm that
/// blocks publishing connections, a lost connection (every call then throws), and consumers of
/// other processors counted in passive declares.
final class InMemoryBroker {
    struct Message {
        var body: [UInt8]
        var headers: [String: HeaderValue] = [:]
        var redelivered = false
    }

    /// Ready messages per queue (declared queues only).
    var queues: [String: [Message]] = [:]
    /// Consumers of other processors, per queue (a holder on another pod).
    var otherConsumers: [String: Int] = [:]
    /// Why the broker blocks publishing connections (a resource alarm); nil when it does not.
    var alarm: String?
    /// Confirms are held (not sent) while true.
    var holdConfirms = false
    /// New connections are refused (the broker is unreachable) while true.
    var refuseConnections = false
    /// Every connection opened, oldest first.
    private(set) var connections: [Connection] = []
    /// Bodies acknowledged, in order.
    private(set) var acknowledged: [[UInt8]] = []
    /// Every basic.ack written, in order.
    private(set) var ackFrames: [(tag: UInt64, multiple: Bool)] = []
    /// Publishes sent into a blocked connection (the real broker would stall the loop): a bug.
    private(set) var publishedWhileBlocked = 0
    /// Called at every read of deliveries (`nextEvent`): lets a test act mid-scenario.
    var onRead: (() -> Void)?
    /// Called at every passive declare, with the queue's name.
    var onInspect: ((String) -> Void)?
    /// Called with the queue's name when a consumer is about to be registered on it.
    var onConsume: ((String) -> Void)?

    /// Copies published and not yet confirmed, over the open connections.
    var unconfirmedCount: Int { connections.filter(\.isOpen).reduce(0) { $0 + $1.unconfirmedCount } }

    init(queue: String, items: [String]) {
        queues[queue] = items.map { Message(body: Array($0.utf8)) }
    }

    /// Shards: `items[i]` are the ready items of `queue.i` (`QUEUE.0` ... `QUEUE.N-1`).
    init(shardsOf queue: String, items: [[String]]) {
        for (i, shard) in items.enumerated() { queues["\(queue).\(i)"] = shard.map { Message(body: Array($0.utf8)) } }
    }

    /// Passive declares per queue, to count what an idle processor samples.
    private(set) var inspections: [String: Int] = [:]
    /// Every prefetch set, per connection, in order (the per-consumer `basic.qos`).
    private(set) var prefetches: [Int] = []
    /// Every copy published (retries, dead letters, returns): where it went and its body.
    private(set) var copies: [(queue: String, body: String)] = []

    /// Opens connections as `AMQPConnection.open` would.
    func open(_ settings: ConnectionSettings, firstAddress: Int, role: LinkRole) throws(WorkQueueError) -> any WorkBroker {
        guard !refuseConnections else { throw WorkQueueError(.unavailable, "in-memory broker: connection refused") }
        let connection = Connection(broker: self, role: role)
        connections.append(connection)
        return connection
    }

    /// Drops every open connection: their unacknowledged deliveries go back, marked redelivered,
    /// and their unconfirmed publishes are lost.
    func loseConnections() {
        for connection in connections where connection.isOpen { connection.lose() }
    }

    /// Ready bodies of `queue`, as strings.
    func ready(_ queue: String) -> [String] {
        (queues[queue] ?? []).map { String(decoding: $0.body, as: UTF8.self) }
    }

    func consumers(of queue: String) -> Int {
        otherConsumers[queue, default: 0] + connections.filter(\.isOpen).reduce(0) { $0 + $1.consumerCount(of: queue) }
    }

    final class Connection: WorkBroker {
        unowned let broker: InMemoryBroker
        private(set) var isOpen = true
        /// Each consumer's queue, channel and prefetch: the `basic.qos` set before it was
        /// registered (RabbitMQ's per-consumer prefetch applies to new consumers only).
        private var consumers: [String: (queue: String, channel: UInt16, prefetch: Int)] = [:]
        private var nextConsumer = 0
        private var prefetch = 0
        private var nextTag: UInt64 = 0
        private var unacked: [(tag: UInt64, queue: String, consumer: String, message: Message)] = []
        /// The next work consumer to deliver from (round-robin over the shards' consumers).
        private var turn = 0
        private var confirms: ConfirmTracker?
        /// Published, not yet confirmed: the tag and where the message goes once stored.
        private var unconfirmed: [(tag: UInt64, queue: String, message: Message)] = []

        /// A real connection opens only its role's channel (`AMQPConnection.open`).
        let role: LinkRole

        init(broker: InMemoryBroker, role: LinkRole) {
            self.broker = broker
            self.role = role
        }

        var unconfirmedCount: Int { unconfirmed.count }

        func consumerCount(of queue: String) -> Int { consumers.values.filter { $0.queue == queue }.count }

        func lose() {
            isOpen = false
            for delivery in unacked.reversed() {
                var message = delivery.message
                message.redelivered = true
                broker.queues[delivery.queue, default: []].insert(message, at: 0)
            }
            unacked = []
            consumers = [:]
            unconfirmed = []
        }

        private func live() throws(WorkQueueError) {
            guard isOpen else { throw WorkQueueError(.connectionLost, "in-memory broker: connection lost") }
        }

        /// A live connection whose role opened `channel`. On a real one, a method on a channel
        /// never opened makes RabbitMQ close the whole connection (504 CHANNEL_ERROR).
        private func live(on channel: UInt16) throws(WorkQueueError) {
            try live()
            let opened = role == .consume ? AMQPConnection.workChannel : AMQPConnection.publishChannel
            guard channel == opened || ![AMQPConnection.workChannel, AMQPConnection.publishChannel].contains(channel) else {
                Issue.record("the loop used channel \(channel) on its \(role) connection, which does not open it")
                throw WorkQueueError(.failure, "in-memory broker: CHANNEL_ERROR - channel \(channel) is not open")
            }
        }

        /// The work channel's consumers, by tag (a tag per shard), in a stable order.
        private var workConsumers: [(tag: String, queue: String, prefetch: Int)] {
            consumers.filter { $0.value.channel == AMQPConnection.workChannel }.map { ($0.key, $0.value.queue, $0.value.prefetch) }
                .sorted { $0.tag < $1.tag }
        }

        /// The next consumer that may be handed a message: per-consumer prefetch, as RabbitMQ's
        /// `basic.qos` with `global` false.
        private var nextDeliverer: (tag: String, queue: String, prefetch: Int)? {
            guard isOpen else { return nil }
            let candidates = workConsumers
            guard !candidates.isEmpty else { return nil }
            for step in 0..<candidates.count {
                let consumer = candidates[(turn + step) % candidates.count]
                let held = unacked.filter { $0.consumer == consumer.tag }.count
                if (consumer.prefetch == 0 || held < consumer.prefetch) && !(broker.queues[consumer.queue] ?? []).isEmpty { return consumer }
            }
            return nil
        }

        private var canDeliver: Bool { nextDeliverer != nil }

        var endpoint: String { "in-memory" }
        var whereConnected: String { "in-memory" }
        var addressIndex: Int { 0 }
        var nextAddressIndex: Int { 0 }
        var heartbeat: Int { 0 }
        var serverVersion: String? { "3.13.0" }
        var socketDescriptor: Int32 { -1 }
        var hasBufferedInput: Bool { canDeliver || (confirms != nil && !broker.holdConfirms && !unconfirmed.isEmpty) }
        var blockedReason: String? { confirms != nil && isOpen ? broker.alarm : nil }
        var confirmTracker: ConfirmTracker { confirms ?? ConfirmTracker() }

        func declareQueue(_ name: String, arguments: [(String, String)]) throws(WorkQueueError) -> QueueCounts {
            try live(on: AMQPConnection.workChannel)
            if broker.queues[name] == nil { broker.queues[name] = [] }
            return try inspectQueue(name)!
        }

        func inspectQueue(_ name: String) throws(WorkQueueError) -> QueueCounts? {
            broker.onInspect?(name)
            broker.inspections[name, default: 0] += 1
            try live()
            guard let ready = broker.queues[name] else { return nil }
            return QueueCounts(ready: ready.count, consumers: broker.consumers(of: name))
        }

        func setPrefetch(_ count: Int) throws(WorkQueueError) {
            try live(on: AMQPConnection.workChannel)
            prefetch = count
            broker.prefetches.append(count)
        }

        func consume(queue: String, acknowledge: Bool, exclusive: Bool) throws(WorkQueueError) -> String {
            try standAsConsumer(of: queue, channel: AMQPConnection.workChannel)
        }

        func standAsConsumer(of queue: String, channel: UInt16) throws(WorkQueueError) -> String {
            broker.onConsume?(queue)
            try live(on: channel)
            nextConsumer += 1
            let tag = "ctag-\(nextConsumer)"
            consumers[tag] = (queue, channel, prefetch)
            return tag
        }

        func cancel(consumerTag: String, channel: UInt16) throws(WorkQueueError) {
            try live(on: channel)
            consumers[consumerTag] = nil
        }

        func ack(_ tag: UInt64, multiple: Bool) throws(WorkQueueError) {
            try live(on: AMQPConnection.workChannel)
            let done = unacked.filter { multiple ? $0.tag <= tag : $0.tag == tag }
            guard !done.isEmpty else {
                // RabbitMQ closes the channel (406 PRECONDITION_FAILED); the test fails, the run goes on.
                Issue.record("the loop acknowledged an unknown delivery tag \(tag)")
                throw WorkQueueError(.failure, "in-memory broker: PRECONDITION_FAILED - unknown delivery tag \(tag)")
            }
            broker.acknowledged += done.map(\.message.body)
            broker.ackFrames.append((tag, multiple))
            unacked.removeAll { multiple ? $0.tag <= tag : $0.tag == tag }
        }

        func nextEvent(timeout: Duration) throws(WorkQueueError) -> ConsumerEvent? {
            broker.onRead?()
            try live()
            guard let consumer = nextDeliverer else { return nil }
            turn += 1
            let message = broker.queues[consumer.queue]!.removeFirst()
            nextTag += 1
            unacked.append((nextTag, consumer.queue, consumer.tag, message))
            var delivery = Delivery(tag: nextTag, body: message.body, redelivered: message.redelivered, headers: message.headers)
            delivery.consumerTag = consumer.tag
            return .delivery(delivery)
        }

        func enableConfirms() throws(WorkQueueError) {
            try live(on: AMQPConnection.publishChannel)
            confirms = ConfirmTracker()
        }

        func readAvailable(heartbeats: Bool) throws(WorkQueueError) {
            try live()
            guard !broker.holdConfirms else { return }
            for publish in unconfirmed {
                broker.queues[publish.queue, default: []].append(publish.message)
                confirms?.acknowledge(tag: publish.tag, multiple: false)
            }
            unconfirmed = []
        }

        func publish(
            exchange: String, routingKey: String, body: UnsafeRawBufferPointer, persistent: Bool, mandatory: Bool,
            properties: MessageProperties, headers: [(String, HeaderValue)], dropping: Set<String>
        ) throws(WorkQueueError) {
            try live(on: AMQPConnection.publishChannel)
            if broker.alarm != nil { broker.publishedWhileBlocked += 1 }
            var message = Message(body: Array(body))
            // `dropping` names the original's headers a copy leaves out; the double does not carry
            // the original's headers over, and the given ones are always written (as AMQPTable does).
            for (name, value) in headers { message.headers[name] = value }
            let tag = confirms?.recordPublish() ?? 0
            unconfirmed.append((tag, routingKey, message))
            broker.copies.append((routingKey, String(decoding: message.body, as: UTF8.self)))
        }

        func declareFanoutExchange(_ name: String, passive: Bool) throws(WorkQueueError) { try live() }

        func publishTransient(exchange: String, body: [UInt8]) throws(WorkQueueError) -> Bool {
            try live()
            return broker.alarm == nil
        }

        func close() { if isOpen { lose() } }
        func abandon() { if isOpen { lose() } }
    }
}
