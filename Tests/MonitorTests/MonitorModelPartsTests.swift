import Testing

import AMQPClient
import Core
@testable import Monitor

@Suite("wqtop's model parts, each on its own: pods, loads, failures, depth, history, link")
struct MonitorModelPartsTests {
    @Test("the pod table keeps a run's latest event, and flags a full table and a shared instance id as bad")
    func podTable() {
        var table = PodTable()
        let bad1 = table.accept(event("a", .working, processed: 5, seq: 2), at: at(0), limit: 2)
        #expect(!bad1)
        let bad2 = table.accept(event("a", .working, processed: 3, seq: 1), at: at(1), limit: 2)
        #expect(!bad2, "an older event is ignored, not bad")
        #expect(table.processed == 5)
        let bad3 = table.accept(event("b", .idle, processed: 0, instance: "id-a"), at: at(1), limit: 2)
        #expect(bad3, "another run with a's instance id")
        let bad4 = table.accept(event("c", .idle, processed: 0), at: at(1), limit: 2)
        #expect(bad4, "no room for a third run")
        #expect(table.rows(at: at(1), listeningSince: nil, lostAfter: .seconds(3), alarm: false).map(\.pod) == ["a", "b"])
        #expect(table.workSeen)
    }

    @Test("a pod silent past the lost timeout is lost, unless the broker has an alarm or wqtop was not listening")
    func lostPods() {
        var table = PodTable()
        _ = table.accept(event("a", .working, processed: 1, inHand: 1), at: at(0), limit: 10)
        #expect(table.rows(at: at(4), listeningSince: nil, lostAfter: .seconds(3), alarm: false).first?.lost == true)
        #expect(table.rows(at: at(4), listeningSince: nil, lostAfter: .seconds(3), alarm: true).first?.lost == false)
        #expect(table.rows(at: at(4), listeningSince: at(2), lostAfter: .seconds(3), alarm: false).first?.lost == false)
        #expect(table.silent(since: at(1), lostAfter: .seconds(3)) == 1 && table.silent(since: at(5), lostAfter: .seconds(3)) == 0)
    }

    @Test("the load ledger adds up its runs' latest counts and turns new runs away when full")
    func loadLedger() {
        var loads = LoadLedger()
        #expect(loads.confirmed == nil)
        let bad5 = loads.accept(LoadEvent(queue: "jobs", load: "a", confirmed: 10, final: false, startedAt: 1000, sentAt: 1002), limit: 1)
        #expect(!bad5)
        let bad6 = loads.accept(LoadEvent(queue: "jobs", load: "a", confirmed: 5, final: false, startedAt: 1000, sentAt: 1001), limit: 1)
        #expect(!bad6)
        let bad7 = loads.accept(LoadEvent(queue: "jobs", load: "b", confirmed: 7, final: false, startedAt: 999, sentAt: 1001), limit: 1)
        #expect(bad7)
        #expect(loads.confirmed == 10 && loads.starts == [1000])
    }

    @Test("the failure log keeps the latest, newest first, and counts skipped ones too")
    func failureLog() {
        var log = FailureLog()
        for n in 0..<5 {
            log.accept(
                FailureEvent(
                    queue: "jobs", pod: "p", instance: "i", item: "item-\(n)", attempt: 1, maxAttempts: 3, outcome: .retry, reason: "r",
                    skipped: n == 4 ? 10 : 0, sentAt: 1000 + Double(n)), kept: 3)
        }
        #expect(log.rows(wallTime: 1010).map(\.event.item) == ["item-4", "item-3", "item-2"])
        #expect(log.rows(wallTime: 1010).first?.ago == 6)
        #expect(log.events == 15)
    }

    @Test("the queue's depth: rising, what left it, work seen, a missing queue")
    func queueDepth() {
        var depth = QueueDepth()
        #expect(!depth.sampled)
        depth.sample(QueueCounts(ready: 0, consumers: 0), at: at(0))
        #expect(depth.sampled && !depth.workSeen)
        depth.sample(QueueCounts(ready: 10, consumers: 0), at: at(1))
        #expect(depth.rising && depth.workSeen)
        depth.sample(QueueCounts(ready: 4, consumers: 1), at: at(2))
        #expect(!depth.rising && depth.drained == 6)
        depth.sample(nil, at: at(3))
        #expect(depth.counts == nil && depth.ready == 0 && depth.drained == 10, "a queue gone took its items with it")
        depth.sample(QueueCounts(ready: 3, consumers: 1), at: at(4))
        depth.sample(QueueCounts(ready: 1, consumers: 1), at: at(5))
        #expect(depth.drained == 12 && !depth.rising, "a queue declared again counts from its first sample")
        #expect(depth.firstSample == at(0))
    }

    @Test("the history keeps the last samples for the graphs and when the counts last moved")
    func sampleHistory() {
        var history = SampleHistory()
        for n in 0..<(SampleHistory.length + 5) { history.record(done: n, ready: 7, at: at(Double(n))) }
        #expect(history.depth.count == SampleHistory.length && history.rate.count == SampleHistory.length)
        #expect(history.lastChange.time == at(Double(SampleHistory.length + 4)))
        history.record(done: SampleHistory.length + 4, ready: 7, at: at(1000))
        #expect(history.lastChange.time == at(Double(SampleHistory.length + 4)), "nothing moved")
    }

    @Test("the broker link counts the gaps in listening and remembers the last outage")
    func brokerLink() {
        var link = BrokerLink()
        link.listening(since: at(0))
        #expect(link.listeningGaps == 0)
        link.connectionLost(at: at(5))
        link.listening(since: at(6))
        #expect(link.listeningGaps == 1 && link.lastOutage == at(5) && link.listeningSince == at(6))
    }
}
