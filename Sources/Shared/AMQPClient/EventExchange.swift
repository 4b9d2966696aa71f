import Core

/// A fanout exchange for messages nobody waits for (progress and load events): declared on each
/// new connection, or taken as it is when it exists with other settings. A refusal is reported
/// the first time only; a lost connection is not news here (the caller's work notices it).
package struct EventExchange: Sendable {
    package let name: String
    private var warned = false

    package init(_ name: String) {
        self.name = name
    }

    /// Declares the exchange on `connection`; returns why events are off, the first time they are.
    package mutating func prepare(on connection: AMQPConnection) -> WorkQueueError? {
        do {
            try connection.declareFanoutExchange(name)
            return nil
        } catch {
            guard error.kind != .connectionLost else { return nil }
            if (try? connection.declareFanoutExchange(name, passive: true)) != nil { return nil }
            defer { warned = true }
            return warned ? nil : error
        }
    }
}
