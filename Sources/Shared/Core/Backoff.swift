/// Reconnect delays: 0.5 s doubling to 10 s, until a total time is spent.
package struct Backoff: Sendable {
    package let limit: Duration?
    private let started: Instant
    private var delay: Duration = .milliseconds(500)
    package private(set) var attempt = 0

    package init(limit: Duration?, now: Instant) {
        self.limit = limit
        self.started = now
    }

    /// The next delay, or nil once the limit is spent.
    package mutating func nextDelay(now: Instant) -> Duration? {
        let remaining = limit.map { $0 - (now - started) }
        if let remaining, remaining <= .zero { return nil }
        attempt += 1
        defer { delay = min(delay * 2, .seconds(10)) }
        return remaining.map { min(delay, $0) } ?? delay
    }
}
