import Core

/// What the processor knows of its publishing connection between reads: whether the broker
/// blocks it (a resource alarm; said once when it starts and once when it ends) and when the
/// connection was last read for its heartbeats.
struct PublishingWatch {
    /// Why the broker blocks publishing, nil while it accepts.
    private(set) var blockedFor: String?
    private var lastService: Instant?

    /// Time between reads of an otherwise quiet publishing connection.
    static let serviceInterval: Duration = .seconds(1)

    /// A change worth a log line.
    enum Change: Equatable {
        case blocked(reason: String)
        case resumed(after: String)
    }

    /// True when the connection is due a read for its heartbeats; the read counts from now.
    mutating func serviceDue(now: Instant) -> Bool {
        if let lastService, now - lastService < Self.serviceInterval { return false }
        lastService = now
        return true
    }

    /// Takes what the connection says now (`connection.blocked` reason or nil); returns a change.
    mutating func observe(blockedReason: String?) -> Change? {
        switch (blockedFor, blockedReason) {
        case (nil, let reason?):
            blockedFor = reason
            return .blocked(reason: reason)
        case (let before?, nil):
            blockedFor = nil
            return .resumed(after: before)
        default:
            return nil
        }
    }

    /// A new connection starts unblocked.
    mutating func reset() {
        blockedFor = nil
    }
}
