import Foundation
import Core
import AMQPClient

/// The RabbitMQ the integration tests use: started by `scripts/test` (scripts/broker) on
/// `WQ_TEST_PORT` (5679). A test that cannot reach it fails loudly; none is ever skipped.
package enum TestBroker {
    package static var port: Int {
        Int(ProcessInfo.processInfo.environment["WQ_TEST_PORT"] ?? "") ?? 5679
    }

    /// Connection settings for `queue` on the test broker.
    package static func settings(queue: String, type: QueueType = .classic, port: Int = port) -> ConnectionSettings {
        var s = ConnectionSettings()
        s.host = "127.0.0.1"
        s.port = port
        s.queue = queue
        s.queueType = type
        return s
    }

    /// A fresh queue name, so tests never share work.
    package static func uniqueQueue(_ label: String) -> String {
        "test-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The environment the executables need to use `queue` on the test broker.
    package static func environment(queue: String, extra: [String: String] = [:]) -> [String: String] {
        var env = ["WORK_QUEUE_HOST": "127.0.0.1", "WORK_QUEUE_PORT": String(port), "WORK_QUEUE_NAME": queue]
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// A connection to the test broker, or a loud failure explaining how to start it.
    package static func connect(queue: String, type: QueueType = .classic, port: Int = port) throws -> AMQPConnection {
        do {
            return try AMQPConnection(settings: settings(queue: queue, type: type, port: port))
        } catch {
            throw TestFailure(
                "the test broker on 127.0.0.1:\(port) is not reachable (\(error)); run the tests with scripts/test, which starts it")
        }
    }

    /// Ready and consumer counts of a queue (nil when it does not exist).
    package static func counts(_ queue: String, port: Int = port) throws -> QueueCounts? {
        let connection = try connect(queue: queue, port: port)
        defer { connection.close() }
        return try connection.inspectQueue(queue)
    }

    /// Deletes a test's queues and its progress exchange.
    package static func cleanUp(_ queue: String, port: Int = port, shards: Int = 1) {
        guard let connection = try? connect(queue: queue, port: port) else { return }
        let topology = Topology(queue: queue, queueType: .classic, shards: shards)
        for name in Set(topology.workQueues + [topology.queue, topology.deadLetterQueue, topology.stoppingQueue]) { try? connection.deleteQueue(name) }
        try? connection.deleteExchange(topology.progressExchange)
        connection.close()
    }

    /// Takes every message of `queue` (acknowledging them) and returns bodies and headers.
    package static func drain(_ queue: String, port: Int = port) throws -> [Delivery] {
        let connection = try connect(queue: queue, port: port)
        defer { connection.close() }
        guard let counts = try connection.inspectQueue(queue), counts.ready > 0 else { return [] }
        try connection.setPrefetch(1000)
        _ = try connection.consume(queue: queue)
        var result: [Delivery] = []
        while result.count < counts.ready, let event = try connection.nextEvent(timeout: .seconds(5)) {
            if case .delivery(let delivery) = event {
                result.append(delivery)
                try connection.ack(delivery.tag)
            }
        }
        return result
    }
}
