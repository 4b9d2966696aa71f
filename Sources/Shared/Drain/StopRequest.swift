#if canImport(Glibc)
import Glibc
#endif
import Core

/// A stop asked for by SIGTERM or SIGINT and the deadlines of what follows: the work gets the
/// grace period (each item's `StopPlan` says how it is stopped); copies still unconfirmed get
/// `returnWait` more unless the broker blocks publishing.
struct StopRequest {
    /// The first stop signal received; later ones change nothing.
    private(set) var signal: Int32?
    /// When the grace period ends; nil until the stop sequence has begun.
    private(set) var graceDeadline: Instant?

    /// Seconds after the grace to wait for the confirms of items returned at its end.
    static let returnWait: Duration = .seconds(5)

    var isRequested: Bool { signal != nil }

    /// Notes a signal from the signal pipe; only SIGTERM and SIGINT ask for a stop.
    mutating func note(_ sig: Int32) {
        if signal == nil && (sig == SIGTERM || sig == SIGINT) { signal = sig }
    }

    /// Starts the grace period if a stop was asked for and it has not started; true the first time.
    mutating func begin(now: Instant, grace: Duration) -> Bool {
        guard signal != nil, graceDeadline == nil else { return false }
        graceDeadline = now + grace
        return true
    }

    /// Whether to go on waiting for the confirms of copies returned to the queue: during the
    /// grace, and `returnWait` after it unless the broker blocks publishing (then nothing comes).
    func mayWaitForReturns(now: Instant, publishingBlocked: Bool) -> Bool {
        guard let deadline = graceDeadline else { return true }
        return now < deadline || (!publishingBlocked && now < deadline + Self.returnWait)
    }

    /// The signal's name for log lines.
    var signalName: String { signal == SIGINT ? "SIGINT" : "SIGTERM" }

    /// 130 after SIGINT, 143 after SIGTERM; nil without a stop.
    var exitCode: Int32? { signal.map { $0 == SIGINT ? ExitCode.interrupted : ExitCode.terminated } }
}
