/// What happens to an item whose work failed or whose processor died: another attempt, or the
/// dead-letter queue.
///
/// Attempts are counted in the `x-attempts` header the processor carries on every copy it
/// publishes (absent on a first delivery), so the count survives other processors and restarts.
/// A delivery that ended because its processor died (killed, out of memory, node lost, connection
/// lost) comes back from the broker and counts as an attempt too: on a quorum queue the broker
/// says how often in `x-delivery-count`; on a classic queue it only says `redelivered`, so such a
/// delivery is first published again with the count written into `x-attempts` ("restamped").
/// Deliberate returns (SIGTERM, shutdown) are copies that keep `x-attempts`: they arrive fresh,
/// without `redelivered`, and spend nothing.
package struct FailurePolicy: Sendable, Equatable {
    package static let attemptsHeader = "x-attempts"
    /// Set by quorum queues on a redelivered message: how often it was returned.
    package static let deliveryCountHeader = "x-delivery-count"

    /// When an item was moved to the dead-letter queue: Unix seconds (an integer).
    package static let failedAtHeader = "x-failed-at"

    /// Headers that describe one earlier outcome or delivery; a new copy sets what applies.
    package static let staleOnCopy: Set<String> = [
        deliveryCountHeader, "x-exit-status", "x-failure-reason", "x-failed-by", failedAtHeader,
    ]

    /// Every header the processor writes: what `loader --from-failed` removes for a fresh start.
    package static let bookkeeping: Set<String> = staleOnCopy.union([attemptsHeader, "x-last-failure", ItemKey.copyHeader, ItemKey.copyOfHeader])

    /// The failure reason of an item whose processors died with it `died` times in a row.
    package static func diedReason(_ died: Int) -> String {
        let times = died > 1 ? " (\(died) times)" : ""
        return "the processor died while working on it\(times): killed, out of memory, or its pod, node or connection lost"
    }

    package enum Outcome: Sendable, Equatable {
        /// Publish again with `x-attempts` set to `nextAttempt`.
        case retry(nextAttempt: Int)
        /// Move to the dead-letter queue; `attempts` were made.
        case deadLetter(attempts: Int)
    }

    /// What to do with a delivery before any work starts.
    package enum Admission: Sendable, Equatable {
        /// Work on it: this is attempt `attempt`.
        case run(attempt: Int)
        /// Its processor died `died` times and the broker keeps no count (a classic queue):
        /// publish it again with `x-attempts: attempt`, then acknowledge this delivery; the copy
        /// is worked on when it comes.
        case restamp(attempt: Int, died: Int)
        /// Every attempt was spent, the last `died` of them by processors that died with it:
        /// move it to the dead-letter queue without running it.
        case deadLetter(attempts: Int, died: Int)
    }

    package let maxAttempts: Int

    package init(maxAttempts: Int) {
        self.maxAttempts = maxAttempts
    }

    /// The attempt number the `x-attempts` header carries (1 when absent or malformed).
    package static func attempt(of headers: [String: HeaderValue]) -> Int {
        if case .int(let n) = headers[attemptsHeader], n >= 1 { return Int(clamping: n) }
        if case .string(let s) = headers[attemptsHeader], let n = Int(s), n >= 1 { return n }
        return 1
    }

    /// How often this copy's earlier deliveries ended with their processor dying, and whether
    /// the broker keeps that count itself (`x-delivery-count`, quorum queues).
    package static func deaths(headers: [String: HeaderValue], redelivered: Bool) -> (count: Int, counted: Bool) {
        if case .int(let n) = headers[deliveryCountHeader] { return (Int(clamping: max(0, n)), true) }
        return (redelivered ? 1 : 0, false)
    }

    /// The attempt a delivery is: the one its `x-attempts` names plus one per processor that
    /// died holding this copy. A copy returned without working on it carries this number.
    package static func attempt(of delivery: Delivery) -> Int {
        attempt(of: delivery.headers) + deaths(headers: delivery.headers, redelivered: delivery.redelivered).count
    }

    /// Decides what to do with a delivery as it arrives.
    package func admit(headers: [String: HeaderValue], redelivered: Bool) -> Admission {
        let base = Self.attempt(of: headers)
        let (died, counted) = Self.deaths(headers: headers, redelivered: redelivered)
        let attempt = base + died
        if attempt > maxAttempts { return .deadLetter(attempts: attempt - 1, died: died) }
        return died == 0 || counted ? .run(attempt: attempt) : .restamp(attempt: attempt, died: died)
    }

    package func outcome(afterFailedAttempt attempt: Int) -> Outcome {
        attempt < maxAttempts ? .retry(nextAttempt: attempt + 1) : .deadLetter(attempts: attempt)
    }
}
