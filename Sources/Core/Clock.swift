#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time in seconds, for durations, deadlines and rates.
package enum MonotonicClock {
    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Formats numbers the way the logs print them.
package enum Format {
    /// Seconds with two decimals: "1.25".
    package static func seconds(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    /// A rate rounded to a whole number: "28431".
    package static func rate(_ count: Int, _ seconds: Double) -> String {
        guard seconds > 0 else { return "\(count)" }
        return "\(Int((Double(count) / seconds).rounded()))"
    }
}

/// Wall-clock time in Unix seconds, for timestamps other machines read.
package enum WallClock {
    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
