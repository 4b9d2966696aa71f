import Core

/// wqtop's side of the processors' repeat notes (`RepeatNotes`): finds the counts that a
/// redelivery repeats, so the receipt can take them out exactly.
///
/// A message the broker hands out again (`redelivered`) is a repeat when its previous holder had
/// finished it: counted it, or had its copy to the work queue confirmed. From then on the message is
/// there twice (counted, or copied, and back in the queue), and whatever becomes of the second
/// one is counted once more. Holders name such messages in `unsettled` until the broker surely
/// has their acknowledgement, so a redelivered key found in some processor's latest `unsettled`
/// is one repeat (and is used up: a later redelivery of it is not). A key found in `copying` (its
/// holder went between publishing the copy and its confirm) is a repeat only if the copy turns
/// up (a processor names the parents of the copies it receives); once the Job finished, a copy
/// that never turned up never existed. A processor that gets one of its own orphans back names it
/// in news of its own (`orphans_back`): a repeat unless a redelivery to another processor
/// already used that key up.
package struct RepeatLedger<Pod: Hashable & Sendable>: Sendable {
    /// One processor's latest lists, and what of them a redelivery already used up.
    private struct Lists: Sendable {
        var unsettled: Set<UInt64> = []
        var copying: Set<UInt64> = []
        var usedUp: Set<UInt64> = []
        var seq: Int
        var omitted = 0
        /// News of this processor read so far (its totals).
        var redeliveredRead = 0
        var copiesRead = 0
        var orphansBackRead = 0
        var keys: Int { unsettled.count + copying.count + usedUp.count }
    }

    /// One event's notes, keys parsed.
    package struct Notes: Sendable, Equatable {
        package var unsettled: [UInt64]
        package var copying: [UInt64]
        package var redelivered: [UInt64]
        package var copies: [UInt64]
        /// How many keys the processor put in each news list in all (the lists are the newest).
        package var redeliveredSeen: Int
        package var copiesSeen: Int
        /// The processor's own orphans delivered to it again (news), and their total.
        package var orphansBack: [UInt64]
        package var orphansBackSeen: Int
        package var omitted: Int

        /// Notes whose news totals are the lists' lengths unless given.
        package init(
            unsettled: [UInt64] = [], copying: [UInt64] = [], redelivered: [UInt64] = [], copies: [UInt64] = [],
            redeliveredSeen: Int? = nil, copiesSeen: Int? = nil, orphansBack: [UInt64] = [], orphansBackSeen: Int? = nil,
            omitted: Int = 0
        ) {
            self.orphansBack = orphansBack
            self.orphansBackSeen = orphansBackSeen ?? orphansBack.count
            self.unsettled = unsettled
            self.copying = copying
            self.redelivered = redelivered
            self.copies = copies
            self.redeliveredSeen = redeliveredSeen ?? redelivered.count
            self.copiesSeen = copiesSeen ?? copies.count
            self.omitted = omitted
        }

        /// The notes of a screened event; nil from a processor that keeps none (older than 0.6.0).
        package init?(_ event: ProgressEvent) {
            guard let unsettled = event.unsettled else { return nil }
            func keys(_ list: [String]?) -> [UInt64] { (list ?? []).compactMap(ItemKey.parse) }
            self.init(
                unsettled: keys(unsettled), copying: keys(event.copying), redelivered: keys(event.redelivered),
                copies: keys(event.copies), redeliveredSeen: event.redeliveredSeen ?? 0, copiesSeen: event.copiesSeen ?? 0,
                orphansBack: keys(event.orphansBack), orphansBackSeen: event.orphansBackSeen ?? 0, omitted: event.omitted ?? 0)
        }
    }

    private var pods: [Pod: Lists] = [:]
    /// Pods whose lists are not empty: the only ones a redelivery is looked up in.
    private var holders: Set<Pod> = []
    /// Repeats found: counts to take out of the reconciliation.
    package private(set) var repeats = 0
    /// Redelivered messages whose holder went while copying them: a repeat once the copy turns up.
    private var waitingForCopy: [UInt64: Int] = [:]
    /// Parents whose copy turned up while a holder still listed them as copying.
    private var copiesSeen: Set<UInt64> = []
    /// Events not received, by the gaps in each processor's `seq` (and those before its first one
    /// seen): harmless in themselves (counts and lists are whole in every event).
    package private(set) var missedEvents = 0
    /// News not read: it had aged out of the processor's events before wqtop read one.
    package private(set) var missedNews = 0
    /// Processors that send no notes.
    package private(set) var podsWithoutNotes = 0
    /// Keys held in all; beyond `maxKeys` notes are not kept (then the ledger is not exact).
    private var keysHeld = 0
    package private(set) var overflowed = false

    /// Keys kept at most over all processors (about 16 bytes each, twice that in sets).
    package static var maxKeys: Int { 500_000 }

    package init() {}

    /// Keys the processors' latest lists still name unsettled that no redelivery used up: finished
    /// items whose acknowledgement may not have reached the broker. After a broker restart that
    /// lost acknowledgements, RabbitMQ can hand such a message out again without `redelivered`, and
    /// the processor that gets it cannot name it: a repeat wqtop cannot see.
    package var stillUnsettled: Int { holders.reduce(0) { $0 + (pods[$1]?.unsettled.count ?? 0) } }

    /// Redelivered messages whose holder went while copying them and whose copy has not turned up.
    package var unresolved: Int { waitingForCopy.values.reduce(0, +) }

    /// Keys the processors could not name (their lists outgrew an event).
    package var omitted: Int { pods.values.reduce(0) { min(ProgressEvent.Limits.count, $0 + $1.omitted) } }

    /// Reads one event of `pod` with sequence number `seq`; `notes` nil when it keeps none.
    package mutating func receive(_ pod: Pod, seq: Int, notes: Notes?) {
        let previous = pods[pod]
        if let previous, seq <= previous.seq { return }
        missedEvents = min(ProgressEvent.Limits.count, missedEvents + seq - (previous.map { $0.seq + 1 } ?? 0))
        guard let notes else {
            if previous == nil { podsWithoutNotes += 1 }
            pods[pod] = Lists(seq: seq)
            return
        }
        // News first, against every processor's lists as they were (this one's previous too:
        // its own orphans may come back to it), then this processor's lists are replaced.
        var lists = pods[pod] ?? Lists(seq: seq)
        for key in fresh(notes.redelivered, total: notes.redeliveredSeen, read: &lists.redeliveredRead) { redelivered(key) }
        for key in fresh(notes.orphansBack, total: notes.orphansBackSeen, read: &lists.orphansBackRead) { orphanBack(key, to: pod) }
        for parent in fresh(notes.copies, total: notes.copiesSeen, read: &lists.copiesRead) { copyTurnedUp(parent) }
        if let current = pods[pod] {
            // What the news used up in this processor's own lists.
            lists.unsettled = current.unsettled
            lists.copying = current.copying
            lists.usedUp = current.usedUp
        }
        let named = Set(notes.unsettled).union(notes.copying)
        // What a redelivery used up stays used up while the processor goes on naming it.
        lists.usedUp.formIntersection(named)
        for key in lists.copying.subtracting(notes.copying) { copiesSeen.remove(key) }
        lists.unsettled = Set(notes.unsettled).subtracting(lists.usedUp)
        lists.copying = Set(notes.copying).subtracting(lists.usedUp)
        lists.seq = seq
        lists.omitted = notes.omitted
        keysHeld -= pods[pod]?.keys ?? 0
        if keysHeld + lists.keys > Self.maxKeys {
            overflowed = true
            lists.unsettled = []
            lists.copying = []
            lists.usedUp = []
        }
        keysHeld += lists.keys
        pods[pod] = lists
        if lists.unsettled.isEmpty && lists.copying.isEmpty { holders.remove(pod) } else { holders.insert(pod) }
    }

    /// The news in `list` not read yet: the last `total - read` keys; any before those that the
    /// list no longer holds are missed.
    private mutating func fresh(_ list: [UInt64], total: Int, read: inout Int) -> [UInt64] {
        let new = max(0, total - read)
        read = max(read, total)
        guard new > list.count else { return Array(list.suffix(new)) }
        missedNews = min(ProgressEvent.Limits.count, missedNews + new - list.count)
        return list
    }

    /// `pod` got one of its own orphans back: a repeat, unless a redelivery of it to another
    /// processor already was one (the key used up in `pod`'s lists: it is the same finish).
    private mutating func orphanBack(_ key: UInt64, to pod: Pod) {
        guard pods[pod]?.usedUp.contains(key) != true else { return }
        pods[pod]?.unsettled.remove(key)
        pods[pod]?.usedUp.insert(key)
        repeats += 1
    }

    /// A processor received `key` again from the broker.
    private mutating func redelivered(_ key: UInt64) {
        if let holder = holders.first(where: { pods[$0]?.unsettled.contains(key) == true }) {
            pods[holder]?.unsettled.remove(key)
            pods[holder]?.usedUp.insert(key)
            repeats += 1
        } else if let holder = holders.first(where: { pods[$0]?.copying.contains(key) == true }) {
            pods[holder]?.copying.remove(key)
            pods[holder]?.usedUp.insert(key)
            if copiesSeen.remove(key) != nil {
                repeats += 1
            } else if waitingForCopy.count < Self.maxKeys {
                waitingForCopy[key, default: 0] += 1
            } else {
                overflowed = true
            }
        }
    }

    /// A processor received a copy of `parent`.
    private mutating func copyTurnedUp(_ parent: UInt64) {
        if let waiting = waitingForCopy[parent] {
            repeats += 1
            waitingForCopy[parent] = waiting > 1 ? waiting - 1 : nil
        } else if copiesSeen.count < Self.maxKeys, holders.contains(where: { pods[$0]?.copying.contains(parent) == true }) {
            copiesSeen.insert(parent)
        }
    }
}
