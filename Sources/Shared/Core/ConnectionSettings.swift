/// A value that must never be printed: its description is a placeholder.
package struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    package let value: String
    package init(_ value: String) { self.value = value }
    package var description: String { "<redacted>" }
    package var debugDescription: String { "<redacted>" }
}

/// Where the broker is, how to log in, and which queue is the work queue.
package struct ConnectionSettings: Sendable, Equatable {
    package var host = "localhost"
    package var port = 5672
    package var user = "guest"
    package var password = Secret("guest")
    package var vhost = "/"
    package var queue = "work-queue"
    package var queueType = QueueType.classic
    /// How many queues the work is spread over (`Topology.workQueues`); 1 is the plain queue.
    package var shards = 1
    package var useTLS = false
    package var caCertPath: String?
    package var verifyPeer = true
    package var connectTimeout: Duration = .seconds(10)
    package var heartbeat = 30
    /// The connection's name in the broker's tools (`rabbitmqctl list_connections name`).
    package var clientName = "work-queue"
    /// More brokers to try, in turn after `host`/`port` (several `--url`s: a cluster's nodes).
    package var otherAddresses: [BrokerAddress] = []
    /// Which of `addresses` a first connection tries first (`AddressSpread`); failover goes on
    /// from there in order.
    package var startAddress = 0

    package init() {}

    /// Every address to try, `host`/`port` first.
    package var addresses: [BrokerAddress] { [BrokerAddress(host: host, port: port)] + otherAddresses }

    /// The address a first connection tries first.
    package var firstAddress: BrokerAddress { addresses[startAddress % addresses.count] }

    /// "host:port" of the first address (never the credentials), and of the others after a comma.
    package var endpoint: String { addresses.map(\.description).joined(separator: ",") }
}

/// One broker address: where a connection may go.
package struct BrokerAddress: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// "host:port", brackets around an IPv6 host.
    package var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port)"
    }
}

/// The kind of RabbitMQ queue the work queue and its dead-letter queue are declared as.
package enum QueueType: String, Sendable, Equatable, CaseIterable {
    case classic
    case quorum
}
