import Core
import Platform

/// A `StopPlan` being carried out on one child. `advance` does what is due and never sleeps, so
/// a loop that must go on serving other descriptors (the processor's) steps it with its clock;
/// `run` steps several to the end for a caller that may block (a way out).
package struct StopSequence {
    package let plan: StopPlan
    package let process: ChildProcess
    /// The next step to carry out.
    private var next = 0
    /// When the wait in progress ends (nil: none started).
    private var waitEnds: Instant?

    package init(_ plan: StopPlan, for process: ChildProcess) {
        self.plan = plan
        self.process = process
    }

    /// True once the process has ended (it was reaped): the plan has nothing more to do.
    package var processEnded: Bool { process.exit != nil }

    /// True once every step is done and the last wait is over. A process not ended by then
    /// outlived the plan: its caller gives up on it.
    package var isFinished: Bool { next == plan.steps.count }

    /// When `advance` has something to do next (the end of the wait in progress).
    package var deadline: Instant? { isFinished ? nil : waitEnds }

    /// Carries out every step due at `now` and returns them (a caller may note that SIGKILL was
    /// sent). A wait starts when it is reached; nothing is sent to a process already reaped.
    @discardableResult
    package mutating func advance(now: Instant) -> [StopPlan.Step] {
        var done: [StopPlan.Step] = []
        while next < plan.steps.count, !processEnded {
            let step = plan.steps[next]
            switch step {
            case .closeInput:
                process.closeInput()
            case .signal(let sig):
                process.signalGroup(sig)
            case .wait(let duration):
                let ends = waitEnds ?? now + duration
                guard now >= ends else {
                    waitEnds = ends
                    return done
                }
                waitEnds = nil
            }
            done.append(step)
            next += 1
        }
        return done
    }

    /// Carries out `sequences` together until each process has ended or outlived its plan,
    /// calling `reap` between steps (it must poll the processes, e.g. with `ChildProcess.poll`).
    /// Blocks meanwhile; returns the processes that outlived their plans (left running).
    package static func run(
        _ sequences: [StopSequence], interval: Duration = .milliseconds(5), reap: () -> Void
    ) -> [ChildProcess] {
        var left = sequences
        while true {
            let now = MonotonicClock.now()
            for i in left.indices { left[i].advance(now: now) }
            reap()
            left.removeAll(where: \.processEnded)
            if left.isEmpty { return [] }
            if left.allSatisfy(\.isFinished) { return left.map(\.process) }
            let next = left.compactMap(\.deadline).min() ?? now
            Sleep.for(min(interval, next - MonotonicClock.now()))
        }
    }

    /// `run` with each process polled directly (callers with no other owner to tell).
    package static func run(_ sequences: [StopSequence], interval: Duration = .milliseconds(5)) -> [ChildProcess] {
        run(sequences, interval: interval) {
            for sequence in sequences { _ = sequence.process.poll() }
        }
    }
}

extension ChildProcess {
    /// Starts `plan` on this child: carries out the steps due now and returns the sequence for
    /// the caller to step on (discard it when the plan has no wait, like `killNow`).
    @discardableResult
    package func beginStop(_ plan: StopPlan, now: Instant = MonotonicClock.now()) -> StopSequence {
        var sequence = StopSequence(plan, for: self)
        sequence.advance(now: now)
        return sequence
    }
}
