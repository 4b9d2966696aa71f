/// How a child ended.
package enum ChildExit: Sendable, Equatable {
    case exited(Int32)
    case signalled(Int32)

    package var succeeded: Bool { self == .exited(0) }

    /// "exit status 3" or "killed by signal 9".
    package var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let sig): return "killed by signal \(sig)"
        }
    }

    /// True when it died of one of `signals`, or exited 128+signal as shells do after one.
    package func endedBy(_ signals: [Int32]) -> Bool {
        switch self {
        case .signalled(let sig): return signals.contains(sig)
        case .exited(let code): return signals.contains { code == 128 + $0 }
        }
    }

    /// The number recorded in a dead letter's `x-exit-status` header (128+signal when signalled).
    package var statusNumber: Int64 {
        switch self {
        case .exited(let code): return Int64(code)
        case .signalled(let sig): return 128 + Int64(sig)
        }
    }
}
