#if canImport(Glibc)
import Glibc
#endif

/// How a child's process group is ended, written once as data: steps carried out in order
/// (ask it to stop, wait, kill, wait), the same on every path that stops work.
package struct StopPlan: Sendable, Equatable {
    /// One step of a plan.
    package enum Step: Sendable, Equatable {
        /// Closes the child's stdin: a `--stdio` worker sees end of file and finishes.
        case closeInput
        /// Sends a signal to the child's whole process group.
        case signal(Int32)
        /// Gives the child this many seconds to end before the next step.
        case wait(Duration)
    }

    package var steps: [Step]

    package init(_ steps: [Step]) {
        self.steps = steps
    }

    /// How long to wait for a SIGKILLed process to be reaped before giving up on it (a process
    /// stuck in the kernel, or reaped by someone else, must not hang the exit).
    package static let killWait: Duration = .seconds(2)

    /// A one-shot command: SIGTERM to its group, `grace` seconds to finish, SIGKILL, then at
    /// most `killWait` to be reaped.
    package static func command(grace: Duration) -> StopPlan {
        StopPlan([.signal(SIGTERM), .wait(grace), .signal(SIGKILL), .wait(killWait)])
    }

    /// A `--stdio` worker: end of file (it answers the item in hand and exits), `grace` seconds,
    /// SIGKILL to its group, then at most `killWait` to be reaped.
    package static func worker(grace: Duration) -> StopPlan {
        StopPlan([.closeInput, .wait(grace), .signal(SIGKILL), .wait(killWait)])
    }

    /// A command started ahead that never got its item (`--spawn-ahead`): SIGKILL to its group at
    /// once, before its stdin closes (end of file would run it on an empty item), then at most
    /// `killWait` to be reaped.
    package static let startedAhead = StopPlan([.signal(SIGKILL), .wait(killWait)])

    /// An item's timeout: SIGKILL to the group at once; the caller's loop reaps it when it ends.
    package static let killNow = StopPlan([.signal(SIGKILL)])
}
