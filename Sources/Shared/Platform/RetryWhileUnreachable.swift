import Core

/// Runs `body` until it succeeds, trying again with backoff while the failure is one that may
/// pass (the broker unreachable, the connection lost, also during its handshake) until `limit`
/// is spent; then throws the last failure as "unreachable" (exit 69). `retrying` hears of each
/// failure and the delay before the next try.
package func retryWhileUnreachable<T>(
    within limit: Duration, retrying: (WorkQueueError, Duration) -> Void, _ body: () throws -> T
) throws -> T {
    var backoff = Backoff(limit: limit, now: MonotonicClock.now())
    while true {
        do {
            return try body()
        } catch let error as WorkQueueError where error.kind == .unavailable || error.kind == .connectionLost {
            guard let delay = backoff.nextDelay(now: MonotonicClock.now()) else { throw error.reclassified(as: .unavailable) }
            retrying(error, delay)
            Sleep.for(delay)
        }
    }
}
