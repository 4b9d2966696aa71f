/// The processor's cumulative counts.
public struct ProcessorStats: Sendable, Equatable {
    /// Items whose work succeeded and were acknowledged.
    public var processed = 0
    /// Failed attempts (each retry or dead letter is one).
    public var failedAttempts = 0
    /// Failed items put back in the queue for another attempt.
    public var retried = 0
    /// Items moved to the dead-letter queue after their last attempt.
    public var deadLettered = 0

    public init() {}
}
