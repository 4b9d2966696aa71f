import Core
import Platform

/// The clock the processor's loop reads, and how long its `poll(2)` may sleep: the system's in
/// the processor, a hand-driven one in unit tests (see DrainTests' `TestLoopClock`).
package protocol LoopClock: AnyObject {
    func now() -> Instant
    /// How long the loop may sleep in `poll(2)` to reach `deadline` (zero when it has passed).
    func sleepBudget(until deadline: Instant) -> Duration
    /// Waits `duration` outside `poll(2)` (a short pause between two looks at the broker).
    func sleep(for duration: Duration)
}

/// The monotonic clock (`MonotonicClock`): the loop sleeps until its deadline.
package final class SystemLoopClock: LoopClock {
    package init() {}

    package func now() -> Instant { MonotonicClock.now() }

    package func sleepBudget(until deadline: Instant) -> Duration {
        max(.zero, deadline - MonotonicClock.now())
    }

    package func sleep(for duration: Duration) { Sleep.for(duration) }
}
