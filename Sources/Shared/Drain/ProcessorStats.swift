import Core
/// The processor's cumulative counts. They change only through `record`, which says when each
/// count moves; the loop tells it what happened.
package struct ProcessorStats: Sendable, Equatable {
    /// Items whose work succeeded: counted just before their acknowledgement is written.
    package private(set) var processed = 0
    /// Failed attempts (each retry or dead letter is one).
    package private(set) var failedAttempts = 0
    /// Failed items put back in the queue for another attempt (counted once the copy is confirmed).
    package private(set) var retried = 0
    /// Items moved to the dead-letter queue after their last attempt (counted once confirmed).
    package private(set) var deadLettered = 0
    /// How long finished work took: successes and failed attempts (not items returned on a stop).
    package private(set) var durations = DurationHistogram()

    package init() {}

    /// What the loop saw happen that the counts follow.
    package enum Happening: Sendable {
        /// Work on an item ended after `duration`; `returned` (stopped, not done) is not timed.
        case workEnded(after: Duration, returned: Bool)
        /// An attempt failed (a retry or a dead letter follows).
        case attemptFailed
        /// `count` successes are about to be acknowledged.
        case acknowledging(count: Int)
        /// The broker confirmed a copy that counts as `count`.
        case copyConfirmed(PendingMoves.Count)
    }

    /// Moves the counts for `happening`.
    package mutating func record(_ happening: Happening) {
        switch happening {
        case .workEnded(let duration, let returned):
            if !returned { durations.record(duration.inSeconds) }
        case .attemptFailed:
            failedAttempts += 1
        case .acknowledging(let count):
            processed += count
        case .copyConfirmed(.retried):
            retried += 1
        case .copyConfirmed(.deadLettered):
            deadLettered += 1
        case .copyConfirmed(.none):
            break
        }
    }
}
