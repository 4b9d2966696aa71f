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
        prepare { (name, passive) throws(WorkQueueError) in try connection.declareFanoutExchange(name, passive: passive) }
    }

    /// As `prepare(on:)`, declaring with `declare(name, passive)`.
    package mutating func prepare(declaring declare: (String, Bool) throws(WorkQueueError) -> Void) -> WorkQueueError? {
        do {
            try declare(name, false)
            return nil
        } catch {
            guard error.kind != .connectionLost else { return nil }
            if (try? declare(name, true)) != nil { return nil }
            defer { warned = true }
            return warned ? nil : error
        }
    }
}
