/// What a processor's progress events say so that wqtop can take repeated counts out of the
/// receipt (see docs/receipt.md): the keys (`ItemKey`) of messages it finished whose
/// acknowledgement may not have reached the broker, and the messages that came back to it.
///
/// A message is *finished* when it is counted (processed, or dead-lettered once its copy is
/// confirmed) or when its copy to the work queue is confirmed (a retry, a restamp, a return).
/// Its key stays in `unsettled` from the event that counts it until a synchronous call on the
/// consuming channel returned after its acknowledgement (the broker then has the ack: a
/// redelivery of it can no longer happen). A copy to the work queue is `copying` from before it is
/// published until it is confirmed (a crash in between leaves it unknown whether the copy exists).
/// On a lost connection everything unsettled or copying stays named for the rest of the run
/// (orphans: the broker may hand those messages out again). `returned` and `copies` are news: the
/// messages delivered with `redelivered` / `x-delivery-count`, and the parents of the copies
/// delivered, numbered (the totals go with each event) and repeated in every event for
/// `newsKept` seconds (at most `newsLimit` of each), so that a reader that missed an event (its
/// queue was gone while the broker restarted) still reads them, and knows when it missed some.
package struct RepeatNotes: Sendable {
    /// Succeeded, not counted yet (a lost connection drops them: the broker gives them back uncounted).
    private var succeeded: [UInt64] = []
    /// Succeeded and counted in the event written before their acknowledgements.
    private var counted: [UInt64] = []
    /// Originals of confirmed copies (and of dead letters), acknowledged right after the event.
    private var moved: [UInt64] = []
    /// Acknowledgements written, not yet known to be processed by the broker.
    private var acknowledged: [UInt64] = []
    /// Copies to the work queue announced and not yet confirmed: key -> how many.
    private var copyingNow: [UInt64] = []
    /// The latest acknowledgements synced, kept (not named) until a lost connection: a broker
    /// restart may lose acknowledgements it had taken but not yet written down (a quorum queue's
    /// settle not yet committed), and then hands those messages out again.
    private var recentlySynced: [UInt64] = []
    /// What a lost connection left unsettled or copying (`orphanKeys`: the same keys, to look up).
    private var orphans: [UInt64] = [] { didSet { orphanKeys = Set(orphans) } }
    private var orphanKeys: Set<UInt64> = []
    private var orphansCopying: [UInt64] = []
    /// Recent news, oldest first, with when it came (monotonic), and how much came in all.
    private var returnedNews: [(key: UInt64, at: Instant)] = []
    private var copiesNews: [(key: UInt64, at: Instant)] = []
    private var returnedTotal = 0
    private var copiesTotal = 0
    /// Orphans that came back to this processor, news of their own (`orphans_back`): each a
    /// repeat unless another processor's redelivery of it already was one (wqtop knows which).
    /// Not `returnedNews`: an orphan synced before the connection was lost was never named, and
    /// it comes back at once on the new connection, before any event could name it, so a reader
    /// would find no holder for such news.
    private var orphansBackNews: [(key: UInt64, at: Instant)] = []
    private var orphansBackTotal = 0
    /// Keys left out because a list outgrew `limit` (then wqtop cannot be exact).
    package private(set) var omitted = 0
    /// Copies added since the last event (they wait for one before they are published).
    package private(set) var copyingUnannounced = false

    /// Keys one event names at most (about 19 bytes each; a progress event stays below 16 KiB).
    package static let limit = 700
    /// Orphans kept at most; older ones are dropped and counted in `omitted`.
    package static let orphanLimit = 400
    /// Synced acknowledgements kept for a lost connection.
    package static let recentLimit = 128
    /// Acknowledgements waiting for a synchronous call before one is made, and seconds the
    /// oldest of fewer waits.
    package static let syncAfter = 8
    package static let syncDelay: Duration = .milliseconds(100)
    /// Seconds news is repeated, and the most of each kind an event repeats.
    package static let newsKept: Duration = .seconds(60)
    package static let newsLimit = 250
    /// When the oldest acknowledgement not yet synced was written (monotonic).
    package private(set) var acknowledgedAt: Instant?

    package init() {}

    /// A successful item, counted in the next flush's event and acknowledged after it.
    package mutating func succeeded(_ key: UInt64) { succeeded.append(key) }

    /// The successful items are counted now, in the event about to be written.
    package mutating func counting() {
        counted += succeeded
        succeeded.removeAll()
    }

    /// A copy to the work queue, announced in an event before it is published.
    package mutating func copying(_ key: UInt64) {
        copyingNow.append(key)
        copyingUnannounced = true
    }

    /// A copy was confirmed: its original is finished and acknowledged after the next event.
    /// `toWorkQueue` says it was announced as copying.
    package mutating func copied(_ key: UInt64, toWorkQueue: Bool) {
        if toWorkQueue, let i = copyingNow.firstIndex(of: key) { copyingNow.remove(at: i) }
        moved.append(key)
    }

    /// The acknowledgements of every successful item were written.
    package mutating func succeededAcknowledged(now: Instant) {
        if acknowledgedAt == nil && !counted.isEmpty { acknowledgedAt = now }
        acknowledged += counted
        counted.removeAll()
    }

    /// The acknowledgements of the confirmed copies' originals were written.
    package mutating func movedAcknowledged(now: Instant) {
        if acknowledgedAt == nil && !moved.isEmpty { acknowledgedAt = now }
        acknowledged += moved
        moved.removeAll()
    }

    /// Acknowledgements wait for a synchronous call on the consuming channel.
    package var needsSync: Bool { acknowledged.count >= Self.syncAfter }
    package var hasUnsynced: Bool { !acknowledged.isEmpty }

    /// A synchronous call on the consuming channel returned: every acknowledgement written before
    /// it has been processed by the broker.
    package mutating func synced() {
        recentlySynced += acknowledged
        if recentlySynced.count > Self.recentLimit { recentlySynced.removeFirst(recentlySynced.count - Self.recentLimit) }
        acknowledged.removeAll()
        acknowledgedAt = nil
    }

    /// Whether a lost connection left orphans: then every delivery's key is looked up, because a
    /// broker restart can hand out a message whose acknowledgement it lost without `redelivered`.
    package var hasOrphans: Bool { !orphans.isEmpty }

    /// A message was delivered. An orphan of this processor back, with `redelivered` or without
    /// (pass `returned` false for one without: only a key from `x-copy` or `message_id` may be
    /// looked up so, a body's hash is shared by equal bodies), is news of its own
    /// (`orphans_back`); any other returned one is news (`redelivered`); a returned orphan still
    /// copying is news too, settled by it (wqtop matches it against the copying it saw, and waits
    /// for the copy); a copy names its parent.
    package mutating func delivered(key: UInt64, returned: Bool, parent: UInt64?, now: Instant) {
        if orphanKeys.contains(key), let i = orphans.firstIndex(of: key) {
            orphans.remove(at: i)
            orphansBackNews.append((key, now))
            orphansBackTotal += 1
        } else if returned {
            returnedNews.append((key, now))
            returnedTotal += 1
            if let i = orphansCopying.firstIndex(of: key) { orphansCopying.remove(at: i) }
        } else if parent == nil {
            return
        }
        if let parent {
            copiesNews.append((parent, now))
            copiesTotal += 1
        }
        for list in [\RepeatNotes.returnedNews, \RepeatNotes.copiesNews, \RepeatNotes.orphansBackNews] {
            let old = self[keyPath: list].prefix { $0.at < now - Self.newsKept }.count
            let extra = max(old, self[keyPath: list].count - Self.newsLimit)
            if extra > 0 { self[keyPath: list].removeFirst(extra) }
        }
    }

    /// The connections were lost: whatever was finished and not known settled, or copying, may
    /// come back from the broker.
    package mutating func connectionLost() {
        // Each key once: one orphan back is one repeat at most.
        var seen = orphanKeys
        orphans += (recentlySynced + counted + moved + acknowledged).filter { seen.insert($0).inserted }
        orphansCopying += copyingNow
        recentlySynced.removeAll()
        succeeded.removeAll()
        counted.removeAll()
        moved.removeAll()
        acknowledged.removeAll()
        acknowledgedAt = nil
        copyingNow.removeAll()
        copyingUnannounced = false
        for list in [\RepeatNotes.orphans, \RepeatNotes.orphansCopying] where self[keyPath: list].count > Self.orphanLimit {
            let extra = self[keyPath: list].count - Self.orphanLimit
            self[keyPath: list].removeFirst(extra)
            omitted += extra
        }
    }

    /// The lists for the next event, each key at most once (one finished message with a key is
    /// enough for a match), news first; `omitted` counts what never fitted so far plus what
    /// does not fit now.
    package func forEvent(now: Instant) -> EventLists {
        var budget = Self.limit
        var left = 0
        func take(_ keys: [UInt64]) -> [UInt64] {
            var seen = Set<UInt64>()
            let unique = keys.filter { seen.insert($0).inserted }
            let kept = Array(unique.prefix(max(0, budget)))
            budget -= kept.count
            left += unique.count - kept.count
            return kept
        }
        // News is not cut (its totals say what a reader missed): the newest up to the budget.
        func recent(_ news: [(key: UInt64, at: Instant)]) -> [UInt64] {
            let kept = Array(news.filter { $0.at >= now - Self.newsKept }.map(\.key).suffix(max(0, budget)))
            budget -= kept.count
            return kept
        }
        let returned = recent(returnedNews)
        let copies = recent(copiesNews)
        let orphansBack = recent(orphansBackNews)
        let unsettled = take(orphans + counted + moved + acknowledged)
        let copying = take(orphansCopying + copyingNow)
        return EventLists(
            unsettled: unsettled, copying: copying, returned: returned, copies: copies, returnedTotal: returnedTotal,
            copiesTotal: copiesTotal, orphansBack: orphansBack, orphansBackTotal: orphansBackTotal, omitted: omitted + left)
    }

    /// The keys one event names.
    package struct EventLists: Sendable, Equatable {
        package var unsettled: [UInt64]
        package var copying: [UInt64]
        package var returned: [UInt64]
        package var copies: [UInt64]
        /// News so far, in all: `returned` and `copies` are the newest of it.
        package var returnedTotal: Int
        package var copiesTotal: Int
        /// This processor's orphans that came back to it, in all: repeats it knows of itself.
        package var orphansBack: [UInt64]
        package var orphansBackTotal: Int
        package var omitted: Int

        package init(
            unsettled: [UInt64], copying: [UInt64], returned: [UInt64], copies: [UInt64], returnedTotal: Int, copiesTotal: Int,
            orphansBack: [UInt64] = [], orphansBackTotal: Int = 0, omitted: Int
        ) {
            self.orphansBack = orphansBack
            self.orphansBackTotal = orphansBackTotal
            self.unsettled = unsettled
            self.copying = copying
            self.returned = returned
            self.copies = copies
            self.returnedTotal = returnedTotal
            self.copiesTotal = copiesTotal
            self.omitted = omitted
        }
    }

    /// The event with `lists` was written: copies are announced.
    package mutating func sent(_ lists: EventLists) {
        omitted = lists.omitted
        copyingUnannounced = false
    }
}
