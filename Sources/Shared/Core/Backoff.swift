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
        attempt += 1
        defer { delay = min(delay * 2, .seconds(10)) }
        guard let limit else { return delay }
        let remaining = limit - (now - started)
        guard remaining > .zero else {
            attempt -= 1
            return nil
        }
        return min(delay, remaining)
    }
}
