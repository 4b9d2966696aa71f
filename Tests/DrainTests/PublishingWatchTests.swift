import Testing

@testable import Drain

@Suite("The publishing connection's state between reads")
struct PublishingWatchTests {
    /// What `observe` says for each reason in turn.
    func changes(_ watch: inout PublishingWatch, _ reasons: [String?]) -> [PublishingWatch.Change?] {
        reasons.map { watch.observe(blockedReason: $0) }
    }

    @Test("a block is news once when it starts and once when it ends")
    func blockedOnce() {
        var watch = PublishingWatch()
        let seen = changes(&watch, [nil, "low on disk", "low on disk"])
        #expect(seen == [nil, .blocked(reason: "low on disk"), nil])
        #expect(watch.blockedFor == "low on disk")
        let after = changes(&watch, [nil, nil])
        #expect(after == [.resumed(after: "low on disk"), nil])
    }

    @Test("a new connection starts unblocked, so its first block is news again")
    func resetOnReconnect() {
        var watch = PublishingWatch()
        _ = watch.observe(blockedReason: "low on memory")
        watch.reset()
        #expect(watch.blockedFor == nil)
        let seen = changes(&watch, ["low on memory"])
        #expect(seen == [.blocked(reason: "low on memory")])
    }

    @Test("a quiet connection is read for its heartbeats at most once a second")
    func serviceOncePerSecond() {
        var watch = PublishingWatch()
        let due = [100, 100.5, 101].map { watch.serviceDue(now: at($0)) }
        #expect(due == [true, false, true])
    }
}
