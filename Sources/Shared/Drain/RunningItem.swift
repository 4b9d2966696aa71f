import Core
import Platform
import AMQPClient
import ProcessRunner
/// An item being worked on: its delivery, what works on it (a command of its own, a `--stdio`
/// worker, or nothing for demo work) and its deadlines.
struct RunningItem {
    let delivery: Delivery
    /// The connection generation the delivery came on; only that connection can acknowledge it.
    let generation: Int
    /// Which attempt this is (see `FailurePolicy`).
    let attempt: Int
    /// When its work started (on the loop's clock): its duration, and its age in progress events.
    var startedAt: Instant
    /// When it was delivered (the broker's consumer_timeout runs from then, also while it waited
    /// for a slot); its start when not given.
    var deliveredAt: Instant? = nil
    var arrivedAt: Instant { deliveredAt ?? startedAt }
    var child: ChildProcess? = nil
    var worker: StdioWorker? = nil
    /// When the processor kills the work (`--item-timeout` or the broker's consumer_timeout,
    /// whichever comes first), and which of the two that is.
    var timeoutAt: Instant? = nil
    var timeoutFor: KillReason = .timeout
    /// Why the processor killed the command or worker, if it did.
    var killedFor: KillReason?
    /// The stop plan carried out on its work after SIGTERM/SIGINT, stepped by `handleStop`.
    var stopping: StopSequence?

    enum KillReason {
        /// `--item-timeout`.
        case timeout
        /// Before the broker's consumer_timeout would take the item back.
        case consumerTimeout
        /// SIGTERM/SIGINT, after the grace.
        case stop
        /// Its result can no longer be acknowledged: the channel it came on was closed, or the
        /// queue deleted.
        case abandoned
    }

    /// Sets the deadline: the earlier of `itemTimeoutAt` (`--item-timeout`) and
    /// `brokerDeadline` (see `ConsumerTimeout.deadline`); none when neither is set.
    mutating func setDeadline(itemTimeoutAt: Instant?, brokerDeadline: Instant?) {
        switch (itemTimeoutAt, brokerDeadline) {
        case (let own?, let broker?) where broker < own: (timeoutAt, timeoutFor) = (broker, .consumerTimeout)
        case (let own?, _): (timeoutAt, timeoutFor) = (own, .timeout)
        case (nil, let broker?): (timeoutAt, timeoutFor) = (broker, .consumerTimeout)
        case (nil, nil): timeoutAt = nil
        }
    }

    /// The item as text for log lines, shortened.
    var label: String { ItemLabel.short(delivery.body) }

    /// The process working on the item: its command, or its worker's current process.
    var process: ChildProcess? { child ?? worker?.child }

    /// How to stop the work on the item after SIGTERM/SIGINT: a command gets SIGTERM, a worker
    /// end of file, then both the grace, SIGKILL and `StopPlan.killWait`.
    func stopPlan(grace: Duration) -> StopPlan {
        child != nil ? .command(grace: grace) : .worker(grace: grace)
    }
}

/// How the work on an item ended.
enum WorkResult {
    case succeeded
    /// A failed attempt; `final` skips the remaining attempts (the item can never succeed).
    case failed(reason: String, exit: ChildExit?, final: Bool = false)
    /// Killed after the grace period: back to the queue without spending an attempt.
    case returned
}

/// Shortens items for log lines.
package enum ItemLabel {
    package static func short(_ bytes: [UInt8], limit: Int = 60) -> String {
        let text = String(decoding: bytes.prefix(limit * 4), as: UTF8.self)
            .map { $0.isNewline ? "⏎" : String($0) }.joined()
        guard text.count > limit || bytes.count > limit * 4 else { return text }
        return String(text.prefix(limit)) + "…(\(bytes.count) bytes)"
    }
}
