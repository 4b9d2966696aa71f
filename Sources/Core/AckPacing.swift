/// When a processor acknowledges its finished items. Every flush first writes a progress event
/// that counts them (so a kill -9 can make a count too high, never too low), so acknowledgements
/// are held a moment while other items run and the prefetch window has room, and sent at once
/// when the processor would otherwise wait for them: nothing else runs, the window is full, a
/// batch is full, or they waited `hold` seconds.
package struct AckPacing: Sendable, Equatable {
    /// The longest finished items wait for their acknowledgement while others run.
    package static let hold = 0.05
    /// Finished items acknowledged at once at most.
    package static let batch = 64

    /// When the oldest finished item still unacknowledged was first seen.
    private var since: Double?

    package init() {}

    /// Whether to acknowledge the `pending` finished items now. `unacknowledged` counts every
    /// delivery the broker holds against `prefetch` (unsettled and finished); `othersRunning` says
    /// whether the processor has other work to do meanwhile.
    package mutating func flushNow(now: Double, pending: Int, unacknowledged: Int, prefetch: Int, othersRunning: Bool) -> Bool {
        guard pending > 0 else {
            since = nil
            return false
        }
        let start = since ?? now
        since = start
        let flush = !othersRunning || unacknowledged >= prefetch || pending >= Self.batch || now - start >= Self.hold
        if flush { since = nil }
        return flush
    }

    /// When held acknowledgements are due; nil when none are held.
    package var deadline: Double? { since.map { $0 + Self.hold } }
}
