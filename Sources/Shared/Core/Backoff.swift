/// Reconnect delays: 0.5 s doubling to 10 s, until a total time is spent.
package struct Backoff: Sendable {
    package let limit: Double
    private let started: Double
    private var delay = 0.5
    package private(set) var attempt = 0

    package init(limit: Double, now: Double) {
        self.limit = limit
        self.started = now
    }

    /// The next delay, or nil once the limit is spent.
    package mutating func nextDelay(now: Double) -> Double? {
        let remaining = limit - (now - started)
        guard remaining > 0 else { return nil }
        attempt += 1
        defer { delay = min(delay * 2, 10) }
        return min(delay, remaining)
    }
}
