/// A value that must never be printed: its description is a placeholder.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// Where the broker is, how to log in, and which queue is the work queue.
public struct ConnectionSettings: Sendable, Equatable {
    public var host = "localhost"
    public var port = 5672
    public var user = "guest"
    public var password = Secret("guest")
    public var vhost = "/"
    public var queue = "work-queue"
    public var queueType = QueueType.classic
    public var useTLS = false
    public var caCertPath: String?
    public var verifyPeer = true
    public var connectTimeout: Double = 10
    public var heartbeat = 30
    /// The connection's name in the broker's tools (`rabbitmqctl list_connections name`).
    public var clientName = "work-queue"
    /// More brokers to try, in turn after `host`/`port` (several `--url`s: a cluster's nodes).
    public var otherAddresses: [BrokerAddress] = []

    public init() {}

    /// Every address to try, `host`/`port` first.
    public var addresses: [BrokerAddress] { [BrokerAddress(host: host, port: port)] + otherAddresses }

    /// "host:port" of the first address (never the credentials), and of the others after a comma.
    public var endpoint: String { addresses.map(\.description).joined(separator: ",") }
}

/// One broker address: where a connection may go.
public struct BrokerAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// "host:port", brackets around an IPv6 host.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port)"
    }
}

/// The kind of RabbitMQ queue the work queue and its dead-letter queue are declared as.
public enum QueueType: String, Sendable, Equatable, CaseIterable {
    case classic
    case quorum
}
