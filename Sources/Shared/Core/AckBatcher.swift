/// Batches the acknowledgements of one connection's deliveries without ever covering a delivery
/// that is not settled.
///
/// It knows every delivery tag handed out and not yet settled (waiting, running, or whose move to
/// another queue has not been confirmed), and the finished ones waiting for their ack. `flush`
/// answers with one `multiple` ack for every finished tag below the lowest unsettled one, and
/// single acks for finished tags above it (they must not wait for an older item that still runs,
/// or they would hold the prefetch window). A tag whose move threw stays unsettled forever, so no
/// later flush, on any path, acknowledges it: the broker returns it when the connection closes.
/// One batcher per connection: `reset` on reconnect, as the broker forgets the old tags.
package struct AckBatcher: Sendable, Equatable {
    /// One acknowledgement to send.
    package struct Ack: Sendable, Equatable {
        package var tag: UInt64
        package var multiple: Bool

        package init(tag: UInt64, multiple: Bool) {
            self.tag = tag
            self.multiple = multiple
        }
    }

    /// Delivered and not settled, ascending (the broker numbers deliveries in order).
    private var unsettled: [UInt64] = []
    /// Finished successfully, not acknowledged yet.
    private var finished: [UInt64] = []

    package init() {}

    /// Finished items waiting for their acknowledgement.
    package var pending: Int { finished.count }

    /// Tags handed out and not settled.
    package var unsettledCount: Int { unsettled.count }

    /// A delivery arrived. Tags of one connection only grow; an older tag is inserted in order.
    package mutating func delivered(_ tag: UInt64) {
        if let last = unsettled.last, tag <= last {
            let index = position(of: tag)
            if index < unsettled.count && unsettled[index] == tag { return }
            unsettled.insert(tag, at: index)
        } else {
            unsettled.append(tag)
        }
    }

    /// The item's work succeeded: acknowledge it with the next flush. False for an unknown tag.
    @discardableResult
    package mutating func succeeded(_ tag: UInt64) -> Bool {
        guard remove(tag) else { return false }
        finished.append(tag)
        return true
    }

    /// The caller acknowledged (or rejected) the tag itself, e.g. after a confirmed move.
    @discardableResult
    package mutating func settledElsewhere(_ tag: UInt64) -> Bool {
        remove(tag)
    }

    /// The acknowledgements to send now; afterwards nothing is pending.
    package mutating func flush() -> [Ack] {
        guard !finished.isEmpty else { return [] }
        let floor = unsettled.first ?? .max
        var highestBelow: UInt64?
        var acks: [Ack] = []
        for tag in finished {
            if tag < floor {
                highestBelow = max(highestBelow ?? 0, tag)
            } else {
                acks.append(Ack(tag: tag, multiple: false))
            }
        }
        if let highestBelow { acks.append(Ack(tag: highestBelow, multiple: true)) }
        finished.removeAll(keepingCapacity: true)
        return acks
    }

    /// A new connection: the old one's tags mean nothing any more (the broker requeued them).
    package mutating func reset() {
        unsettled.removeAll()
        finished.removeAll()
    }

    private func position(of tag: UInt64) -> Int {
        var low = 0
        var high = unsettled.count
        while low < high {
            let mid = (low + high) / 2
            if unsettled[mid] < tag { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private mutating func remove(_ tag: UInt64) -> Bool {
        let index = position(of: tag)
        guard index < unsettled.count, unsettled[index] == tag else { return false }
        unsettled.remove(at: index)
        return true
    }
}
