/// Counts publisher confirms on one channel: tags are 1, 2, 3, ... in publish order; the broker
/// acknowledges them singly or with `multiple` (everything up to a tag).
package struct ConfirmTracker: Sendable, Equatable {
    /// Tags published so far (the last tag handed out).
    package private(set) var published: UInt64 = 0
    /// Every tag up to this one is confirmed.
    package private(set) var confirmedThrough: UInt64 = 0
    /// Single confirms that arrived above `confirmedThrough`.
    private var confirmedAbove: Set<UInt64> = []
    /// Set once a publish was returned or nacked: later acks (which the broker may coalesce
    /// over the failed tag) confirm nothing more on this channel.
    package private(set) var failed = false

    package init() {}

    /// Records a publish and returns its tag.
    package mutating func recordPublish() -> UInt64 {
        published += 1
        return published
    }

    /// A publish was returned or refused: nothing unconfirmed now counts as stored, ever.
    package mutating func fail() {
        failed = true
    }

    /// Records a `basic.ack`.
    package mutating func acknowledge(tag: UInt64, multiple: Bool) {
        guard !failed else { return }
        if multiple {
            confirmedThrough = max(confirmedThrough, tag)
            if !confirmedAbove.isEmpty { confirmedAbove = confirmedAbove.filter { $0 > confirmedThrough } }
        } else if tag == confirmedThrough + 1 {
            confirmedThrough = tag
        } else if tag > confirmedThrough {
            confirmedAbove.insert(tag)
        }
        while confirmedAbove.remove(confirmedThrough + 1) != nil { confirmedThrough += 1 }
    }

    /// True once the broker confirmed `tag`.
    package func isConfirmed(_ tag: UInt64) -> Bool {
        tag <= confirmedThrough || confirmedAbove.contains(tag)
    }

    /// Published but not yet confirmed.
    package var outstanding: UInt64 { published - confirmedThrough - UInt64(confirmedAbove.count) }

    /// How many publishes the broker has confirmed.
    package var confirmedCount: UInt64 { confirmedThrough + UInt64(confirmedAbove.count) }
}
