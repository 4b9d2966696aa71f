import Core

/// wqtop's link to the broker as the session tells it: why it is down, the broker's alarm, why
/// events are refused, and since when wqtop has listened without a break.
package struct BrokerLink: Sendable {
    /// "reconnecting..." and why, while the broker is unreachable.
    package var connectionProblem: String?
    /// Why the broker blocks publishers (a resource alarm, e.g. "low on disk"), while it does.
    package var brokerAlarm: String?
    /// Why no progress events arrive (the broker refused wqtop's private queue), when it did.
    package var eventsOff: String?
    /// Since when (monotonic) wqtop has listened without a break: a pod silent while wqtop was
    /// disconnected (a broker restart) may have sent events nobody received.
    package private(set) var listeningSince: Instant?
    /// Times wqtop listened again after its connection was lost, and when it was last lost.
    private(set) var listeningGaps = 0
    private(set) var lastOutage: Instant?
    /// Connections lost or refused and samples that failed, since wqtop started.
    package var errors = 0

    /// wqtop's connection was lost at `time` (monotonic): events sent from then on are lost to it.
    package mutating func connectionLost(at time: Instant) {
        lastOutage = time
    }

    /// wqtop (re)connected at `time` and listens to events again.
    package mutating func listening(since time: Instant) {
        if listeningSince != nil { listeningGaps += 1 }
        listeningSince = time
    }
}
