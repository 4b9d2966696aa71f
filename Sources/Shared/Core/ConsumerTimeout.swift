/// The broker's `consumer_timeout`: how long RabbitMQ lets a delivery stay unacknowledged before
/// it closes the channel (406 PRECONDITION_FAILED) and redelivers everything the channel held.
/// AMQP does not tell a client the value; RabbitMQ names it only in that close ("... Timeout value
/// used: 5000 ms ..."), so a processor learns it there, or is told (`--consumer-timeout`).
package struct ConsumerTimeout: Sendable, Equatable {
    package var milliseconds: Int

    package init(milliseconds: Int) {
        self.milliseconds = milliseconds
    }

    package var duration: Duration { .milliseconds(milliseconds) }

    /// The most a processor keeps before the broker's deadline, and the least (but never more
    /// than half the timeout): the broker checks on its channel tick, and the work must be
    /// stopped and its failure copy confirmed before the broker closes the channel.
    package static let marginCap: Duration = .seconds(60)
    package static let marginFloor: Duration = .seconds(1)

    /// How long before the broker's deadline at which the processor stops an item itself:
    /// a tenth of the timeout, at least 1 s, at most 60 s, never more than half of it.
    package var margin: Duration {
        min(duration / 2, min(Self.marginCap, max(Self.marginFloor, duration / 10)))
    }

    /// When the processor stops the work on a delivery that arrived at `arrivedAt` (the broker's
    /// clock starts at delivery, also for items that wait for a slot).
    package func deadline(arrivedAt: Instant) -> Instant {
        arrivedAt + duration - margin
    }

    /// When a delivery still waiting for a slot goes back to the queue instead: a margin before
    /// its `deadline`, so that work started on it has at least that long.
    package func returnBy(arrivedAt: Instant) -> Instant {
        arrivedAt + waitLimit
    }

    /// How long a delivery may wait for a slot: two margins short of the timeout.
    package var waitLimit: Duration { duration - margin * 2 }

    /// The value RabbitMQ names in its close text ("... Timeout value used: 5000 ms. ..."), nil
    /// when the text is not a consumer timeout or names no value (other versions).
    package init?(closeText text: String) {
        guard Self.isConsumerTimeout(text) else { return nil }
        let marker = "Timeout value used:"
        guard let range = text.firstRange(of: marker) else { return nil }
        let digits = text[range.upperBound...].drop { $0 == " " }.prefix { $0.isASCII && $0.isNumber }
        guard let ms = Int(digits), ms > 0 else { return nil }
        self.milliseconds = ms
    }

    /// RabbitMQ's PRECONDITION_FAILED for a delivery unacknowledged past `consumer_timeout`
    /// ("delivery acknowledgement on channel 1 timed out ...").
    package static func isConsumerTimeout(_ text: String) -> Bool {
        text.contains("acknowledgement") && text.contains("timed out")
    }
}
