import Core

/// The latest failure events, oldest first, and how many the processors sent or skipped.
struct FailureLog: Sendable {
    private var latest: [FailureEvent] = []
    /// Failure events received, and those processors said they skipped (rate limit); at most 10^12.
    private(set) var events = 0

    /// Keeps `event` among the latest `kept`.
    mutating func accept(_ event: FailureEvent, kept: Int) {
        // Each event may say up to 10^12 skipped: the total stops there, short of an overflow.
        events = min(ProgressEvent.Limits.count, events + 1 + event.skipped)
        latest.append(event)
        if latest.count > kept { latest.removeFirst(latest.count - kept) }
    }

    /// The failures newest first, aged at `wallTime` (Unix seconds).
    func rows(wallTime: Double) -> [FailureRow] {
        latest.reversed().map { FailureRow(event: $0, ago: max(0, wallTime - $0.sentAt)) }
    }
}
