import Core
import AMQPClient
/// Learns whether the broker blocks publishers (a resource alarm: low on disk or memory).
/// RabbitMQ sends connection.blocked only to connections that publish, so the monitor keeps a
/// small connection of its own that publishes a transient, empty message nobody receives (the
/// default exchange, a routing key no queue has) every few seconds, and listens. Its own
/// connection never publishes, so sampling goes on during an alarm.
final class AlarmProbe {
    private let settings: ConnectionSettings
    private var connection: AMQPConnection?
    private var lastTry: Instant?

    /// Time between probes, and between attempts to open the probe's connection.
    static let period: Duration = .seconds(5)
    static let routingKey = "wqtop.alarm-probe"

    init(settings: ConnectionSettings) {
        var settings = settings
        settings.clientName = "wqtop (alarm probe)"
        self.settings = settings
    }

    /// The broker's reason while it blocks publishers, nil otherwise or when unknown.
    var alarm: String? { connection?.blockedReason }

    /// Reads what the broker said, and probes again when due. Failures only drop the probe.
    func poll(now: Instant) {
        if connection == nil {
            if let lastTry, now - lastTry < Self.period { return }
            lastTry = now
            connection = try? AMQPConnection(settings: settings)
        }
        guard let connection else { return }
        do {
            // With heartbeats: a probe whose broker went silent is dropped, not trusted.
            try connection.readAvailable(heartbeats: true)
            if connection.blockedReason == nil && lastTry.map({ now - $0 >= Self.period }) ?? true {
                lastTry = now
                try connection.publish(routingKey: Self.routingKey, body: UnsafeRawBufferPointer(start: nil, count: 0), persistent: false, mandatory: false)
            }
        } catch {
            connection.abandon()
            self.connection = nil
        }
    }

    func close() {
        connection?.close()
        connection = nil
    }
}
