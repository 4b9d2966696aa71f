import Testing
import Core

@Suite("Shards: the names of a Job's work queues")
struct TopologyShardTests {
    @Test("one shard is the queue itself, names unchanged")
    func oneShardIsTheQueue() {
        let topology = Topology(queue: "jobs", queueType: .classic)
        #expect(topology.workQueues == ["jobs"])
        #expect(topology.shardQueue(5) == "jobs")
        #expect(topology.deadLetterQueue == "jobs.failed")
        #expect(topology.stoppingQueue == "jobs.stopping")
        #expect(topology.progressExchange == "jobs.progress")
    }

    @Test("N shards are QUEUE.0 to QUEUE.N-1, and the Job keeps one dead-letter queue")
    func shardsAreNumbered() {
        let topology = Topology(queue: "jobs", queueType: .quorum, shards: 3)
        #expect(topology.workQueues == ["jobs.0", "jobs.1", "jobs.2"])
        #expect(topology.isWorkQueue("jobs.2"))
        #expect(!topology.isWorkQueue("jobs"))
        #expect(!topology.isWorkQueue("jobs.3"))
        #expect(topology.deadLetterQueue == "jobs.failed")
    }

    @Test("a running counter picks the shards round-robin, negative ones too")
    func roundRobin() {
        let topology = Topology(queue: "q", queueType: .classic, shards: 4)
        #expect((0..<8).map { topology.shardQueue($0) } == ["q.0", "q.1", "q.2", "q.3", "q.0", "q.1", "q.2", "q.3"])
        #expect(topology.shardQueue(-1) == "q.3")
    }

    @Test("declaring a sharded Job declares every shard and sums their ready items")
    func declareEveryShard() throws {
        let topology = Topology(queue: "q", queueType: .classic, shards: 3)
        var declared: [String] = []
        let counts = try topology.declare(
            using: { name, _ throws(WorkQueueError) in
                declared.append(name)
                return QueueCounts(ready: name.hasPrefix("q.") && name.count == 3 ? 10 : 0, consumers: name == "q.1" ? 4 : 2)
            },
            orFind: { _ throws(WorkQueueError) in nil })
        #expect(declared == ["q.0", "q.1", "q.2", "q.failed", "q.stopping"])
        #expect(counts == QueueCounts(ready: 30, consumers: 4))
    }
}
