/// The one error type of the project: what failed, the exit code that tells scripts and
/// Kubernetes which kind of failure it was, and, as values, what the user can do about it. The
/// layers below the executables never name a flag or an environment variable: they set a
/// `Remedy`, and each executable phrases it in its own words (`ErrorReport`).
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

    /// What the user can do about a failure, said by the tool in its own words.
    package enum Remedy: Sendable, Equatable, CaseIterable {
        /// The broker's host name did not resolve: check the configured host.
        case checkHost
        /// Nothing listens at the address: is the broker running, is the port right?
        case checkBrokerRunning
        /// The broker did not answer while connecting: check the address or allow more time.
        case raiseConnectTimeout
        /// TLS failed: check the CA certificates, or skip verification.
        case checkTLS
        /// The configured CA certificate file is not usable (the error names the file).
        case checkCACertificateFile
        /// The broker refused the login: check the user, password and vhost.
        case checkCredentials
        /// The broker refused the vhost: check the configured vhost.
        case checkVhost
        /// A queue or exchange exists with other settings than those asked for.
        case queueSettingsDiffer
        /// The broker refused an operation after login: the user lacks a permission (the error
        /// names it and the object); an administrator grants it.
        case grantPermission
        /// A queue or exchange is missing and this user may not create it: declare the topology
        /// once as a user who may, or grant configure permission.
        case declareTopology
    }

    /// One part of an error's text and the remedy said right after it. An error that sums up
    /// others (every address tried) keeps each one's remedy where it belongs.
    package struct Clause: Sendable, Equatable {
        package var text: String
        package var remedy: Remedy?
    }

    /// What the broker said about why it closed, as data, where a caller acts on it.
    package enum Cause: Sendable, Equatable {
        /// A delivery stayed unacknowledged past the broker's `consumer_timeout`; the value when
        /// the broker named it.
        case consumerTimeout(ConsumerTimeout?)
    }

    package var kind: Kind
    /// Set when the error is one a caller may act on beyond its kind (see `Cause`).
    package var cause: Cause?
    /// The text, clause by clause; `message` is the text without remedies.
    package private(set) var clauses: [Clause]

    package init(_ kind: Kind, _ message: String, remedy: Remedy? = nil) {
        self.kind = kind
        self.clauses = [Clause(text: message, remedy: remedy)]
    }

    /// An error of `kind` whose text is `prefix`, then each of `errors` (with its remedies)
    /// separated by `separator`.
    package init(_ kind: Kind, _ prefix: String, joining errors: [WorkQueueError], separator: String = "; ") {
        self.kind = kind
        self.clauses = [Clause(text: prefix, remedy: nil)]
        for (index, error) in errors.enumerated() {
            if index > 0 { clauses.append(Clause(text: separator, remedy: nil)) }
            clauses += error.clauses
        }
    }

    /// What failed, without remedies: for log lines of the layers below the executables.
    package var message: String { clauses.map(\.text).joined() }

    /// The remedy of the last clause that has one.
    package var remedy: Remedy? { clauses.last { $0.remedy != nil }?.remedy }

    /// The text with each remedy phrased by `phrase`, which gets the clause's text and its
    /// remedy and returns both as the user reads them.
    package func phrased(_ phrase: (String, Remedy) -> String) -> String {
        clauses.map { clause in clause.remedy.map { phrase(clause.text, $0) } ?? clause.text }.joined()
    }

    /// The same error with `text` said after it (after its remedies), as `kind` if given.
    package func appending(_ text: String, kind: Kind? = nil) -> WorkQueueError {
        var error = self
        error.clauses.append(Clause(text: text, remedy: nil))
        if let kind { error.kind = kind }
        return error
    }

    /// The same text and remedies as another kind of failure.
    package func reclassified(as kind: Kind) -> WorkQueueError {
        var error = self
        error.kind = kind
        return error
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
