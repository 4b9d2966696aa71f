import FoundationEssentials

/// A processor's event on the progress exchange, version 1, `"kind":"failure"`: one failed attempt
/// of one item, what became of it (another attempt, or the dead-letter queue) and why. Sent as it
/// happens and never again, so a reader that was not listening misses it (the counts in the
/// progress events do not): for the latest failures, not for bookkeeping.
package struct FailureEvent: Codable, Sendable, Equatable {
    /// The value of `kind` that tells a failure event from the others.
    package static let kind = "failure"

    /// What became of the item after the failed attempt.
    package enum Outcome: String, Codable, Sendable {
        /// Queued again for attempt `attempt + 1`.
        case retry
        /// Moved to the dead-letter queue.
        case deadLetter = "dead-letter"
    }

    package var v: Int = ProgressEvent.version
    package var kind: String = FailureEvent.kind
    package var queue: String
    /// The pod and instance of the processor that saw the failure (see `ProgressEvent`).
    package var pod: String
    package var instance: String
    /// The item, shortened as in the processor's log lines.
    package var item: String
    /// The attempt that failed (1 for the first).
    package var attempt: Int
    package var maxAttempts: Int
    package var outcome: Outcome
    /// Why, as in the processor's log line and the dead letter's `x-failure-reason`.
    package var reason: String
    /// The command's exit status (128 + n after signal n), when a command or worker exited.
    package var exitStatus: Int?
    /// Failure events this processor did not send before this one (it sends at most
    /// `FailureEvent.perSecond` a second); their failures are in the progress events' counts.
    package var skipped: Int
    /// Unix seconds (wall clock).
    package var sentAt: Double

    /// Failure events a processor sends per second at most (and in one burst).
    package static let perSecond = 20.0

    package init(
        queue: String, pod: String, instance: String, item: String, attempt: Int, maxAttempts: Int, outcome: Outcome,
        reason: String, exitStatus: Int? = nil, skipped: Int = 0, sentAt: Double
    ) {
        self.queue = queue
        self.pod = pod
        self.instance = instance
        self.item = item
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.outcome = outcome
        self.reason = reason
        self.exitStatus = exitStatus
        self.skipped = skipped
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case v, kind, queue, pod, instance, item, attempt, outcome, reason, skipped
        case maxAttempts = "max_attempts"
        case exitStatus = "exit_status"
        case sentAt = "sent_at"
    }

    /// The event as one line of JSON.
    package func encoded() -> [UInt8] { JSONLine.encode(self) }

    /// Checks the event against `ProgressEvent.Limits`; `wallTime` (Unix seconds), when given, dates it.
    package func screened(wallTime: Double? = nil) -> ScreenedEvent {
        typealias Limits = ProgressEvent.Limits
        guard v == ProgressEvent.version else { return .foreign }
        guard kind == Self.kind else { return .rejected("not a failure event") }
        guard !pod.isEmpty, !instance.isEmpty else { return .rejected("no pod or no instance") }
        guard (1...Limits.count).contains(maxAttempts), (1...maxAttempts).contains(attempt) else {
            return .rejected("attempt \(attempt) of \(maxAttempts) out of range")
        }
        guard (0...Limits.count).contains(skipped) else { return .rejected("skipped \(skipped) out of 0...\(Limits.count)") }
        if let exitStatus, !(0...Int(UInt16.max)).contains(exitStatus) { return .rejected("exit_status \(exitStatus) out of 0...65535") }
        guard sentAt.isFinite, sentAt > 0 else { return .rejected("sent_at is not a Unix time") }
        if let wallTime, abs(sentAt - wallTime) > Limits.clockSkew { return .rejected("sent_at \(sentAt) more than a day from now") }
        var event = self
        var cut = false
        event.pod = ProgressEvent.printable(pod, cut: &cut)
        event.instance = ProgressEvent.printable(instance, cut: &cut)
        event.item = ProgressEvent.printable(item, cut: &cut)
        event.reason = ProgressEvent.printable(reason, cut: &cut)
        return .failure(event, cut: cut)
    }
}
