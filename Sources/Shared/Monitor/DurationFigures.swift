import Core

/// Item durations as wqtop's JSON frames and receipt write them: how many finished, and their
/// p50, p95 and max in seconds, to the millisecond.
package struct DurationFigures: Encodable, Sendable, Equatable {
    package var count: Int
    package var p50: Double
    package var p95: Double
    package var max: Double

    /// nil without a summary or before any item finished.
    package init?(_ summary: DurationSummary?) {
        guard let summary, summary.count > 0 else { return nil }
        count = summary.count
        p50 = Self.milliseconds(summary.p50)
        p95 = Self.milliseconds(summary.p95)
        max = Self.milliseconds(summary.max)
    }

    /// Seconds rounded to the millisecond.
    package static func milliseconds(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}
