import Core
import Platform
import AMQPClient
/// Publishes a loader run's `LoadEvent`s: every few seconds while items are being confirmed and
/// once after the last confirm. Like the processor's events they are transient, unconfirmed and
/// never fail the load: when the exchange cannot be declared, events are off for that connection.
package struct LoadEventPublisher {
    /// The fanout exchange; nil when load events are switched off.
    private var target: EventExchange?
    private var event: LoadEvent
    private var lastSent: Instant?

    /// Seconds between two events while loading.
    static let period: Duration = .seconds(2)

    package init(exchange: String?, queue: String, total: Int?) {
        self.target = exchange.map(EventExchange.init)
        var generator = SystemRandomNumberGenerator()
        let id = String(UInt64.random(in: .min ... .max, using: &generator), radix: 16)
        self.event = LoadEvent(queue: queue, load: id, confirmed: 0, total: total, startedAt: WallClock.now(), sentAt: 0)
    }

    /// The run's id, as its events carry it.
    package var loadID: String { event.load }

    /// Declares the exchange on a new connection; returns why events are off, the first time
    /// they are (see `EventExchange`).
    package mutating func prepare(on connection: AMQPConnection) -> WorkQueueError? {
        target?.prepare(on: connection)
    }

    /// Sends the running count when an event is due, or the last event (`final`). Never throws:
    /// a lost connection is the load's to notice on its next publish.
    package mutating func update(confirmed: Int, now: Instant, on connection: AMQPConnection?, final: Bool = false) {
        guard let exchange = target?.name, let connection else { return }
        let due = lastSent.map { now - $0 >= Self.period } ?? true
        guard final || (due && confirmed != event.confirmed) else { return }
        event.confirmed = confirmed
        event.final = final
        event.sentAt = WallClock.now()
        lastSent = now
        try? connection.publishTransient(exchange: exchange, body: event.encoded())
    }
}
