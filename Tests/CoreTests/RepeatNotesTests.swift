import Testing

import Core

@Suite("A processor's repeat notes: named from the count until the broker surely has the ack")
struct RepeatNotesTests {
    @Test("a success is unsettled from its count until a sync after its ack; news goes out once")
    func lifecycle() {
        var n = RepeatNotes()
        n.succeeded(1)
        #expect(n.forEvent(now: at(0)).unsettled.isEmpty, "not named before the event that counts it")
        n.counting()
        n.delivered(key: 9, returned: true, parent: 4, now: at(1))
        var lists = n.forEvent(now: at(1))
        #expect(lists == .init(unsettled: [1], copying: [], returned: [9], copies: [4], returnedTotal: 1, copiesTotal: 1, omitted: 0))
        n.sent(lists)
        n.succeededAcknowledged(now: at(5))
        // News is repeated for a minute, then only its totals go on.
        #expect(n.forEvent(now: at(5)).unsettled == [1] && n.forEvent(now: at(5)).returned == [9])
        #expect(n.forEvent(now: at(62)).returned.isEmpty && n.forEvent(now: at(62)).returnedTotal == 1)
        #expect(n.hasUnsynced && !n.needsSync && n.acknowledgedAt == at(5))
        n.synced()
        lists = n.forEvent(now: at(0))
        #expect(lists.unsettled.isEmpty && !n.hasUnsynced)
    }

    @Test("a copy to the work queue is copying until confirmed, then unsettled; a lost connection keeps all as orphans")
    func copiesAndOrphans() {
        var n = RepeatNotes()
        n.copying(3)
        #expect(n.copyingUnannounced)
        n.sent(n.forEvent(now: at(0)))
        #expect(!n.copyingUnannounced && n.forEvent(now: at(0)).copying == [3])
        n.copied(3, toWorkQueue: true)
        n.copying(4)
        n.succeeded(5)
        n.counting()
        #expect(Set(n.forEvent(now: at(0)).unsettled) == [3, 5] && n.forEvent(now: at(0)).copying == [4])
        n.connectionLost()
        #expect(Set(n.forEvent(now: at(0)).unsettled) == [3, 5] && n.forEvent(now: at(0)).copying == [4])
        // An orphan that comes back to this processor is a repeat it counts itself: no longer
        // unsettled, and no news (a reader would look for a holder that may never have named it).
        n.delivered(key: 5, returned: true, parent: nil, now: at(0))
        let lists = n.forEvent(now: at(0))
        #expect(lists.unsettled == [3] && lists.returned.isEmpty && lists.returnedTotal == 0 && lists.orphansBack == [5] && lists.orphansBackTotal == 1)
        // An orphan still copying that comes back is news: a reader matches it with the copying it saw.
        n.delivered(key: 4, returned: true, parent: nil, now: at(1))
        #expect(n.forEvent(now: at(1)).returned == [4] && n.forEvent(now: at(1)).copying.isEmpty)
    }

    @Test("an acknowledgement synced before the connection was lost, never named, comes back at once: counted as a repeat, not left as unmatched news")
    func syncedOrphanBackBeforeAnyEvent() {
        var n = RepeatNotes()
        n.succeeded(7)
        n.counting()
        n.sent(n.forEvent(now: at(0)))
        n.succeededAcknowledged(now: at(0))
        n.synced()
        #expect(n.forEvent(now: at(0)).unsettled.isEmpty, "synced: the broker has the ack, not named")
        // A broker restart lost that ack; the new connection's first delivery is the same message.
        n.connectionLost()
        n.delivered(key: 7, returned: true, parent: nil, now: at(1))
        n.delivered(key: 8, returned: true, parent: nil, now: at(1))
        let lists = n.forEvent(now: at(1))
        #expect(lists.orphansBack == [7] && lists.orphansBackTotal == 1)
        #expect(lists.returned == [8] && lists.returnedTotal == 1, "another processor's message back is news as before")
        #expect(lists.unsettled.isEmpty)
    }

    @Test("a key left twice by a lost connection (equal bodies share one) is one orphan: it comes back as one repeat at most")
    func orphanKeysOnce() {
        var n = RepeatNotes()
        n.succeeded(5)
        n.counting()
        n.succeededAcknowledged(now: at(0))
        n.synced()
        n.succeeded(5)
        n.counting()
        n.connectionLost()
        n.delivered(key: 5, returned: true, parent: nil, now: at(1))
        n.delivered(key: 5, returned: true, parent: nil, now: at(1))
        let lists = n.forEvent(now: at(1))
        #expect(lists.orphansBack == [5] && lists.orphansBackTotal == 1)
        #expect(lists.returned == [5] && lists.returnedTotal == 1, "the second is news, as any redelivery")
        #expect(!n.hasOrphans)
    }

    @Test("an orphan that comes back without the redelivered flag (a classic queue after a restart that lost its ack) is still this processor's repeat")
    func orphanBackUnflagged() {
        var n = RepeatNotes()
        n.succeeded(7)
        n.counting()
        n.connectionLost()
        #expect(n.hasOrphans)
        n.delivered(key: 9, returned: false, parent: nil, now: at(1))
        n.delivered(key: 7, returned: false, parent: nil, now: at(1))
        let lists = n.forEvent(now: at(1))
        #expect(lists.orphansBack == [7] && lists.unsettled.isEmpty && lists.returned.isEmpty)
        #expect(!n.hasOrphans)
    }

    @Test("a success not yet counted when the connection is lost is no orphan: the broker gives it back uncounted")
    func uncountedDropped() {
        var n = RepeatNotes()
        n.succeeded(1)
        n.connectionLost()
        n.counting()
        #expect(n.forEvent(now: at(0)).unsettled.isEmpty)
    }

    @Test("lists beyond what an event holds are counted as omitted")
    func omitted() {
        var n = RepeatNotes()
        for key in 0..<UInt64(RepeatNotes.limit + 5) { n.succeeded(key) }
        n.counting()
        let lists = n.forEvent(now: at(0))
        #expect(lists.unsettled.count == RepeatNotes.limit && lists.omitted == 5)
    }

    @Test("item keys: 16 hex digits both ways; x-copy first, then message_id, then the body")
    func keys() {
        #expect(ItemKey.hex(0xab) == "00000000000000ab" && ItemKey.parse("00000000000000ab") == 0xab)
        #expect(ItemKey.parse("00000000000000AB") == nil && ItemKey.parse("ab") == nil)
        var d = Delivery(tag: 1, body: Array("x".utf8), redelivered: false, headers: [:])
        let byBody = ItemKey.of(d)
        d.properties.messageID = "m-1"
        let byID = ItemKey.of(d)
        #expect(byID != byBody)
        d.headers[ItemKey.copyHeader] = .string("0000000000000042")
        #expect(ItemKey.of(d) == 0x42)
        #expect(!ItemKey.wasReturned(d))
        d.headers[FailurePolicy.deliveryCountHeader] = .int(1)
        #expect(ItemKey.wasReturned(d))
    }
}
