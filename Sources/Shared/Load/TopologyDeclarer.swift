import Core
import Platform
import AMQPClient

/// `loader --declare-only`: what an administrator runs once so that applications need no
/// configure permission: the work queue (or its shards), `QUEUE.failed` and `QUEUE.stopping` (durable, of the
/// configured type) and the progress exchange (a durable fanout). Unlike the other tools it never
/// falls back to a passive declare: a refusal here says which permission this user lacks.
package struct TopologyDeclarer {
    package let settings: ConnectionSettings
    package let progressExchange: String?
    package let log: Log

    package init(settings: ConnectionSettings, progressExchange: String?, log: Log) {
        self.settings = settings
        self.progressExchange = progressExchange
        self.log = log
    }

    /// Declares everything; returns the names declared, in order.
    @discardableResult
    package func run() throws -> [String] {
        let topology = Topology(settings)
        let connection = try retryWhileUnreachable(within: settings.connectTimeout, retrying: log.unreachable) {
            try AMQPConnection(settings: settings)
        }
        defer { connection.close() }
        var declared: [String] = []
        let queueNames = topology.workQueues + [topology.deadLetterQueue, topology.stoppingQueue]
        for name in queueNames {
            _ = try connection.declareQueue(name, arguments: topology.arguments(for: name))
            declared.append(name)
        }
        if let exchange = progressExchange {
            try connection.declareFanoutExchange(exchange)
            declared.append(exchange)
        }
        let queues = declared.prefix(queueNames.count).joined(separator: ", ")
        let exchange = progressExchange.map { " and the fanout exchange \($0)" } ?? ""
        log.always("declared the \(settings.queueType.rawValue) queues \(queues)\(exchange) at \(connection.endpoint); users of this queue need no configure permission now")
        return declared
    }
}
