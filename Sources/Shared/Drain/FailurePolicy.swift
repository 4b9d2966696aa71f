/// What happens to an item whose work failed: another attempt, or the dead-letter queue.
///
/// Attempts are counted in the `x-attempts` header the processor carries on the item (absent on
/// a first delivery), so the count survives other processors and restarts.
public struct FailurePolicy: Sendable, Equatable {
    public static let attemptsHeader = "x-attempts"

    public enum Outcome: Sendable, Equatable {
        /// Publish again with `x-attempts` set to `nextAttempt`.
        case retry(nextAttempt: Int)
        /// Move to the dead-letter queue; `attempts` were made.
        case deadLetter(attempts: Int)
    }

    public let maxAttempts: Int

    public init(maxAttempts: Int) {
        self.maxAttempts = maxAttempts
    }

    /// The attempt number of a delivery (1 for a first delivery).
    public static func attempt(of headers: [String: HeaderValue]) -> Int {
        if case .int(let n) = headers[attemptsHeader], n >= 1 { return Int(clamping: n) }
        if case .string(let s) = headers[attemptsHeader], let n = Int(s), n >= 1 { return n }
        return 1
    }

    public func outcome(afterFailedAttempt attempt: Int) -> Outcome {
        attempt < maxAttempts ? .retry(nextAttempt: attempt + 1) : .deadLetter(attempts: attempt)
    }
}
