/// The one error type of the project: what failed, in words a user can act on, and the exit code
/// that tells scripts and Kubernetes which kind of failure it was.
package struct WorkQueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure, each with its documented exit code.
    package enum Kind: Sendable, Equatable {
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

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var exitCode: Int32 {
        switch kind {
        case .usage: return ExitCode.usage
        case .unavailable: return ExitCode.unavailable
        case .accessRefused: return ExitCode.accessRefused
        case .connectionLost, .failure: return ExitCode.failure
        }
    }

    package var description: String { message }

    package static func usage(_ message: String) -> WorkQueueError { .init(.usage, message) }
    package static func failure(_ message: String) -> WorkQueueError { .init(.failure, message) }
}

/// The exit codes every executable documents.
package enum ExitCode {
    package static let success: Int32 = 0
    package static let failure: Int32 = 1
    package static let usage: Int32 = 64
    package static let unavailable: Int32 = 69
    package static let accessRefused: Int32 = 77
    /// 128 + SIGHUP: wqtop's terminal went away.
    package static let hangUp: Int32 = 129
    package static let interrupted: Int32 = 130
    package static let terminated: Int32 = 143
}
