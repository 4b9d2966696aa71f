/// Reconnect delays: 0.5 s doubling to 10 s, until a total time is spent.
package struct Backoff: Sendable {
    package let limit: Double
    private let started: Double
    private var delay = 0.5
    package private(set) var attempt = 0

    package init(limit: Double, now: Double = MonotonicClock.now()) {
        self.limit = limit
        self.started = now
    }

    /// The next delay, or nil once the limit is spent.
    package mutating func nextDelay(now: Double = MonotonicClock.now()) -> Double? {
        let remaining = limit - (now - started)
        guard remaining > 0 else { return nil }
        attempt += 1
        defer { delay = min(delay * 2, 10) }
        return min(delay, remaining)
    }
}

/// Runs `body` until it succeeds, trying again with backoff while the failure is one that may
/// pass (the broker unreachable, the connection lost, also during its handshake) until `seconds`
/// are spent; then throws the last failure as "unreachable" (exit 69). `retrying` hears of each
/// failure and the delay before the next try.
package func retryWhileUnreachable<T>(
    within seconds: Double, retrying: (WorkQueueError, Double) -> Void, _ body: () throws -> T
) throws -> T {
    var backoff = Backoff(limit: seconds)
    while true {
        do {
            return try body()
        } catch let error as WorkQueueError where error.kind == .unavailable || error.kind == .connectionLost {
            guard let delay = backoff.nextDelay() else { throw error.reclassified(as: .unavailable) }
            retrying(error, delay)
            Sleep.seconds(delay)
        }
    }
}
