import Core
import AMQPClient

/// What the processor's loop needs from one broker connection, and nothing else: deliveries and
/// consumer cancels, acknowledgements, publishes with confirms, passive declares (queue counts),
/// connection.blocked / unblocked, and a lost connection (every call throws `.connectionLost`).
/// `AMQPConnection` is the real one; the DrainTests target has an in-memory double, so the loop's
/// decisions run in unit tests without a broker (as swift-nio tests handlers on `EmbeddedChannel`).
package protocol WorkBroker: AnyObject {
    /// "host:port", for messages.
    var endpoint: String { get }
    /// Where this connection went, for the first log line.
    var whereConnected: String { get }
    /// Which of the configured addresses this is, and where a reconnect after losing it starts.
    var addressIndex: Int { get }
    var nextAddressIndex: Int { get }
    /// The negotiated heartbeat in seconds (0: off).
    var heartbeat: Int { get }
    var serverVersion: String? { get }
    /// For `poll(2)`; -1 when there is no socket (closed, or a double).
    var socketDescriptor: Int32 { get }
    /// True when frames are already read, so waiting on the socket would miss them.
    var hasBufferedInput: Bool { get }
    /// Why the broker blocks publishing on this connection (a resource alarm), nil when it does not.
    var blockedReason: String? { get }
    /// Publishes and confirms of the publish channel.
    var confirmTracker: ConfirmTracker { get }

    func declareQueue(_ name: String, arguments: [(String, String)]) throws(WorkQueueError) -> QueueCounts
    /// A passive declare: the queue's ready messages and consumers, nil when it does not exist.
    func inspectQueue(_ name: String) throws(WorkQueueError) -> QueueCounts?
    func setPrefetch(_ count: Int) throws(WorkQueueError)
    /// Starts consuming `queue` on the work channel; returns the consumer tag.
    func consume(queue: String, acknowledge: Bool, exclusive: Bool) throws(WorkQueueError) -> String
    /// Stands as a consumer (taking nothing) on `queue`, on `channel`; returns the consumer tag.
    func standAsConsumer(of queue: String, channel: UInt16) throws(WorkQueueError) -> String
    func cancel(consumerTag: String, channel: UInt16) throws(WorkQueueError)
    func ack(_ tag: UInt64, multiple: Bool) throws(WorkQueueError)
    /// The next delivery or cancel, waiting up to `timeout`; nil when none came.
    func nextEvent(timeout: Duration) throws(WorkQueueError) -> ConsumerEvent?

    func enableConfirms() throws(WorkQueueError)
    /// Reads what arrived on the publishing connection (confirms, blocked / unblocked).
    func readAvailable(heartbeats: Bool) throws(WorkQueueError)
    /// Publishes a persistent, mandatory copy to the default exchange with confirms.
    func publish(
        exchange: String, routingKey: String, body: UnsafeRawBufferPointer, persistent: Bool, mandatory: Bool,
        properties: MessageProperties, headers: [(String, HeaderValue)], dropping: Set<String>
    ) throws(WorkQueueError)
    /// Events: declares their exchange, and publishes without confirm (false: nothing sent).
    func declareFanoutExchange(_ name: String, passive: Bool) throws(WorkQueueError)
    func publishTransient(exchange: String, body: [UInt8]) throws(WorkQueueError) -> Bool

    /// Closes politely.
    func close()
    /// Forgets the connection without a goodbye (lost, or half made).
    func abandon()
}

extension WorkBroker {
    func declareQueue(_ name: String) throws(WorkQueueError) -> QueueCounts {
        try declareQueue(name, arguments: [])
    }

    func consume(queue: String) throws(WorkQueueError) -> String {
        try consume(queue: queue, acknowledge: true, exclusive: false)
    }

    func standAsConsumer(of queue: String) throws(WorkQueueError) -> String {
        try standAsConsumer(of: queue, channel: AMQPConnection.markerChannel)
    }

    func cancel(consumerTag: String) throws(WorkQueueError) {
        try cancel(consumerTag: consumerTag, channel: AMQPConnection.workChannel)
    }

    func ack(_ tag: UInt64) throws(WorkQueueError) {
        try ack(tag, multiple: false)
    }

    func readAvailable() throws(WorkQueueError) {
        try readAvailable(heartbeats: false)
    }

    func publish(
        routingKey: String, body: UnsafeRawBufferPointer, properties: MessageProperties, headers: [(String, HeaderValue)],
        dropping: Set<String>
    ) throws(WorkQueueError) {
        try publish(
            exchange: "", routingKey: routingKey, body: body, persistent: true, mandatory: true, properties: properties,
            headers: headers, dropping: dropping)
    }
}

extension AMQPConnection: WorkBroker {}

/// Which of the processor's two connections is opened (`BrokerLinks`): each opens only the
/// channel it uses.
package enum LinkRole: Sendable, Equatable {
    /// Consumes and acknowledges on the work channel; samples queues on the inspect channel.
    case consume
    /// Publishes copies with confirms on the publish channel; events on the side channel.
    case publish
}

/// Opens one connection to the broker: `settings`, trying `firstAddress` first, for `role`.
package typealias BrokerOpener = (_ settings: ConnectionSettings, _ firstAddress: Int, _ role: LinkRole) throws(WorkQueueError) -> any WorkBroker

extension AMQPConnection {
    /// Opens a real connection (the processor's `BrokerOpener`) with only the channel `role`
    /// uses open: the work channel to consume, the publish channel to publish.
    package static func open(_ settings: ConnectionSettings, firstAddress: Int, role: LinkRole) throws(WorkQueueError) -> any WorkBroker {
        try AMQPConnection(settings: settings, firstAddress: firstAddress, channels: [role == .consume ? workChannel : publishChannel])
    }
}
