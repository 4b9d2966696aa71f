/// When a processor acknowledges its finished items. Every flush first writes a progress event
/// that counts them (so a kill -9 can make a count too high, never too low), so acknowledgements
/// are held a moment while the processor has work at hand without them, and sent as soon as it
/// could run short: when the items it holds waiting plus those the prefetch window still lets the
/// broker send fall below three quarters of the window (at prefetch 1, at once), when a batch is
/// full, or when they waited `hold`. (Holding up to half the window cost a fast no-op
/// drain 6-8%: the broker had only half the window to send into.)
package struct AckPacing: Sendable, Equatable {
    /// The longest finished items wait for their acknowledgement while others run.
    package static let hold: Duration = .milliseconds(50)
    /// Finished items acknowledged at once at most.
    package static let batch = 64

    /// When the oldest finished item still unacknowledged was first seen.
    private var since: Instant?

    package init() {}

    /// Whether to acknowledge the `pending` finished items now. `unacknowledged` counts every
    /// delivery the broker holds against `prefetch` (unsettled and finished); `waiting` counts the
    /// delivered items not started yet.
    package mutating func flushNow(now: Instant, pending: Int, unacknowledged: Int, waiting: Int, prefetch: Int) -> Bool {
        guard pending > 0 else {
            since = nil
            return false
        }
        let start = since ?? now
        since = start
        let headroom = waiting + max(0, prefetch - unacknowledged)
        let flush = headroom < max(1, prefetch * 3 / 4) || pending >= Self.batch || now - start >= Self.hold
        if flush { since = nil }
        return flush
    }

    /// When held acknowledgements are due; nil when none are held.
    package var deadline: Instant? { since.map { $0 + Self.hold } }
}
