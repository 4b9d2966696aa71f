/// The one error type of the project: what failed, in words a user can act on, and the exit code
/// that tells scripts and Kubernetes which kind of failure it was.
public struct WorkQueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure, each with its documented exit code.
    public enum Kind: Sendable, Equatable {
        /// Bad flags, environment or input: exit 64 (EX_USAGE).
        case usage
        /// The broker cannot be reached (closed port, unknown host, timeout): exit 69 (EX_UNAVAILABLE).
        case unavailable
        /// The broker refused the credentials or the vhost: exit 77 (EX_NOPERM).
        case accessRefused
        /// The connection was lost after it had been established; callers may reconnect: exit 1.
        case connectionLost
        /// Anything else that went wrong at run time: exit 1.
        case failure
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var exitCode: Int32 {
        switch kind {
        case .usage: return ExitCode.usage
        case .unavailable: return ExitCode.unavailable
        case .accessRefused: return ExitCode.accessRefused
        case .connectionLost, .failure: return ExitCode.failure
        }
    }

    public var description: String { message }

    public static func usage(_ message: String) -> WorkQueueError { .init(.usage, message) }
    public static func failure(_ message: String) -> WorkQueueError { .init(.failure, message) }
}

/// The exit codes every executable documents.
public enum ExitCode {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 64
    public static let unavailable: Int32 = 69
    public static let accessRefused: Int32 = 77
    /// 128 + SIGHUP: wqtop's terminal went away.
    public static let hangUp: Int32 = 129
    public static let interrupted: Int32 = 130
    public static let terminated: Int32 = 143
}
