import Testing
import Core
import Drain

@Suite("The processor's counts, moved only by what happened")
struct ProcessorStatsTests {
    @Test func eachHappeningMovesItsCount() {
        var stats = ProcessorStats()
        stats.record(.workEnded(after: .seconds(2), returned: false))
        stats.record(.workEnded(after: .seconds(9), returned: true))
        stats.record(.attemptFailed)
        stats.record(.acknowledging(count: 3))
        stats.record(.copyConfirmed(.retried))
        stats.record(.copyConfirmed(.deadLettered))
        stats.record(.copyConfirmed(.deadLettered))
        stats.record(.copyConfirmed(.none))
        #expect(stats.processed == 3)
        #expect(stats.failedAttempts == 1)
        #expect(stats.retried == 1)
        #expect(stats.deadLettered == 2)
        // A returned item's work is not timed.
        #expect(stats.durations.count == 1)
    }
}
