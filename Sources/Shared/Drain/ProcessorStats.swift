import Core
/// The processor's cumulative counts.
package struct ProcessorStats: Sendable, Equatable {
    /// Items whose work succeeded: counted just before their acknowledgement is written.
    package var processed = 0
    /// Failed attempts (each retry or dead letter is one).
    package var failedAttempts = 0
    /// Failed items put back in the queue for another attempt (counted once the copy is confirmed).
    package var retried = 0
    /// Items moved to the dead-letter queue after their last attempt (counted once confirmed).
    package var deadLettered = 0
    /// How long finished work took: successes and failed attempts (not items returned on a stop).
    package var durations = DurationHistogram()

    package init() {}
}
