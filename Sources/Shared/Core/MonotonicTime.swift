/// Monotonic time, typed: an `Instant` is a point on the processes' monotonic clock (Swift's
/// `ContinuousClock`), a `Duration` the time between two. Core never reads the clock; the caller
/// passes `now` in (Platform's `MonotonicClock`, or a test's own clock). Wall-clock times stay
/// Unix seconds (`Double`) and only where a person or another machine reads them.
package typealias Instant = ContinuousClock.Instant

extension Duration {
    /// The duration in seconds, for rates and for the logs' "1.25 s".
    package var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded up and never negative: a `poll(2)` timeout that does not
    /// wake before the deadline.
    package var roundedUpMilliseconds: Int {
        let parts = components
        guard parts.seconds >= 0, parts.attoseconds >= 0 else { return 0 }
        let ms = parts.seconds * 1000 + (parts.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return ms > Int64(Int32.max) ? Int(Int32.max) : Int(ms)
    }
}

extension Format {
    /// A duration in seconds with two decimals: "1.25".
    package static func seconds(_ value: Duration) -> String {
        seconds(value.inSeconds)
    }
}

extension Format {
    /// Items per second over a duration, rounded to a whole number: "28431".
    package static func rate(_ count: Int, _ elapsed: Duration) -> String {
        rate(count, elapsed.inSeconds)
    }
}
