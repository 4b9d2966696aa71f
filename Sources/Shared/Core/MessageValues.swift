// Values that describe messages and queues as the broker reports them: plain data, so the
// work-queue logic reads them without the AMQP client.

/// A header or argument value the project sends.
package enum HeaderValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
}

/// One message handed to this consumer, copied out of rabbitmq-c's buffers.
package struct Delivery: Sendable, Equatable {
    package var tag: UInt64
    package var body: [UInt8]
    package var redelivered: Bool
    /// The headers this project reads (strings and integers).
    package var headers: [String: HeaderValue]
    /// Everything else the message came with, for faithful copies.
    package var properties = MessageProperties()
    /// The consumer it was delivered to (basic.deliver's consumer tag): with several shards,
    /// each shard has its own consumer, so the tag says which shard the item came from.
    package var consumerTag = ""
    /// The work queue it came from, set by the processor from `consumerTag` when it arrives;
    /// retries and returns go back there (`Topology.home(of:)`). Empty: not known.
    package var workQueue = ""

    package init(
        tag: UInt64, body: [UInt8], redelivered: Bool, headers: [String: HeaderValue],
        properties: MessageProperties = MessageProperties()
    ) {
        self.tag = tag
        self.body = body
        self.redelivered = redelivered
        self.headers = headers
        self.properties = properties
    }
}

/// What a `queue.declare` reports: ready messages (not those held unacknowledged) and consumers.
package struct QueueCounts: Sendable, Equatable {
    package var ready: Int
    package var consumers: Int

    package init(ready: Int, consumers: Int) {
        self.ready = ready
        self.consumers = consumers
    }
}

/// The properties a received message came with, other than its body: kept so that a copy the
/// processor publishes (a retry, a dead letter, an item returned on SIGTERM) carries them too.
/// The headers table is kept as received, every field kind included, in its wire encoding.
package struct MessageProperties: Sendable, Equatable {
    package var contentType: String?
    package var contentEncoding: String?
    package var correlationID: String?
    package var replyTo: String?
    package var expiration: String?
    package var messageID: String?
    package var timestamp: UInt64?
    package var type: String?
    package var userID: String?
    package var appID: String?
    package var priority: UInt8?
    /// The headers table in AMQP's wire encoding, nil when the message had none.
    package var encodedHeaders: [UInt8]?

    package init(
        contentType: String? = nil, contentEncoding: String? = nil, correlationID: String? = nil, replyTo: String? = nil,
        expiration: String? = nil, messageID: String? = nil, timestamp: UInt64? = nil, type: String? = nil,
        userID: String? = nil, appID: String? = nil, priority: UInt8? = nil, encodedHeaders: [UInt8]? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.priority = priority
        self.encodedHeaders = encodedHeaders
    }
}
