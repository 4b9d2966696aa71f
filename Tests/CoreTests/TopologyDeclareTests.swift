import Testing
import Core

@Suite("Declaring the topology without configure permission")
struct TopologyDeclareTests {
    let topology = Topology(queue: "q", queueType: .classic)
    let refused = WorkQueueError(.accessRefused, "queue.declare 'q': access refused by the broker at h:1: user 'u' has no configure permission on queue 'q' in vhost '/'", remedy: .grantPermission)

    @Test("a refused declare is followed by a passive one, and the run goes on with its counts")
    func refusedThenFound() throws {
        var passive: [String] = []
        let counts = try topology.declare(
            using: { _, _ throws(WorkQueueError) in throw refused },
            orFind: { name throws(WorkQueueError) in
                passive.append(name)
                return QueueCounts(ready: name == "q" ? 7 : 0, consumers: 1)
            })
        #expect(counts == QueueCounts(ready: 7, consumers: 1))
        #expect(passive == ["q", "q.failed", "q.stopping"])
    }

    @Test("a queue that is missing and may not be created: one error naming it and what to do")
    func refusedAndMissing() {
        #expect {
            try topology.declare(using: { _, _ throws(WorkQueueError) in throw refused }, orFind: { _ throws(WorkQueueError) in nil })
        } throws: { error in
            let error = error as? WorkQueueError
            return error?.kind == .accessRefused && error?.remedy == .declareTopology
                && error?.message
                    == "queue.declare 'q': the queue does not exist, and creating it was refused (access refused by the broker at h:1: user 'u' has no configure permission on queue 'q' in vhost '/')"
        }
    }

    @Test("other failures are not taken for a missing permission")
    func otherFailures() {
        #expect(throws: WorkQueueError.failure("mismatch")) {
            try topology.declare(using: { _, _ throws(WorkQueueError) in throw .failure("mismatch") }, orFind: { _ throws(WorkQueueError) in nil })
        }
    }
}

@Suite("Spreading clients over a cluster's addresses")
struct AddressSpreadTests {
    @Test("an Indexed Job's completion index spreads pods exactly; one address is always the first")
    func completionIndex() {
        #expect((0..<6).map { AddressSpread.start(count: 3, completionIndex: $0) } == [0, 1, 2, 0, 1, 2])
        #expect(AddressSpread.start(count: 1, completionIndex: 5) == 0)
    }

    @Test("without an index the start is random over every address")
    func random() {
        var seen = Set<Int>()
        for _ in 0..<200 { seen.insert(AddressSpread.start(count: 3, completionIndex: nil)) }
        #expect(seen == [0, 1, 2])
        #expect(AddressSpread.start(count: 3, completionIndex: nil, random: { $0 - 1 }) == 2)
    }
}
