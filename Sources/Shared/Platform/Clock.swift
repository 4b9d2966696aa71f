#if canImport(Glibc)
import Glibc
#endif
import Core

/// The monotonic clock, for durations, deadlines and rates: the one place that reads it.
package enum MonotonicClock {
    package static func now() -> Instant {
        ContinuousClock.now
    }
}

/// Wall-clock time in Unix seconds, for timestamps other machines and people read.
package enum WallClock {
    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
