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

    package init() {}
}
