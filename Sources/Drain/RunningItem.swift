import Core
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
    /// When its work started (monotonic seconds): its duration, and its age in progress events.
    var startedAt = MonotonicClock.now()
    var child: ChildProcess? = nil
    var worker: StdioWorker? = nil
    var timeoutAt: Double? = nil
    /// Why the processor killed the command or worker, if it did.
    var killedFor: KillReason?
    /// The stop plan carried out on its work after SIGTERM/SIGINT, stepped by `handleStop`.
    var stopping: StopSequence?

    enum KillReason {
        case timeout
        case stop
    }

    /// The item as text for log lines, shortened.
    var label: String { ItemLabel.short(delivery.body) }

    /// The process working on the item: its command, or its worker's current process.
    var process: ChildProcess? { child ?? worker?.child }

    /// How to stop the work on the item after SIGTERM/SIGINT: a command gets SIGTERM, a worker
    /// end of file, then both the grace, SIGKILL and `StopPlan.killWait`.
    func stopPlan(grace: Double) -> StopPlan {
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
