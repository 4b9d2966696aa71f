import Core

/// The loaders' runs as their latest load events tell them, by load id.
struct LoadLedger: Sendable {
    private var loads: [String: LoadEvent] = [:]

    /// Keeps a run's latest event: a repeated or later event of one run replaces the last, an
    /// older one (sent before it) is ignored; a new run only while fewer than `limit` are kept.
    /// True when the event was turned away for lack of room.
    mutating func accept(_ event: LoadEvent, limit: Int) -> Bool {
        if let known = loads[event.load] {
            if (known.sentAt, known.confirmed) > (event.sentAt, event.confirmed) { return false }
        } else if loads.count >= limit {
            return true
        }
        loads[event.load] = event
        return false
    }

    /// Items the runs had confirmed, added up; nil before any load event.
    var confirmed: Int? {
        loads.isEmpty ? nil : loads.values.reduce(0) { $0 + $1.confirmed }
    }

    /// The runs' starts (Unix seconds).
    var starts: [Double] { loads.values.map(\.startedAt) }
}
