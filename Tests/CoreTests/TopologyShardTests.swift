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

    @Test("shards get a leader locator (balanced for quorum, min-masters for classic); one work queue and the Job's other queues keep their arguments")
    func leaderLocatorOnShardsOnly() {
        let one = Topology(queue: "jobs", queueType: .quorum)
        #expect(one.arguments(for: "jobs").map(\.0) == ["x-queue-type"])
        let sharded = Topology(queue: "jobs", queueType: .quorum, shards: 3)
        #expect(sharded.arguments(for: "jobs.1").map { "\($0.0)=\($0.1)" } == ["x-queue-type=quorum", "x-queue-leader-locator=balanced"])
        #expect(sharded.arguments(for: "jobs.failed").map(\.0) == ["x-queue-type"])
        #expect(sharded.arguments(for: "jobs.stopping").map(\.0) == ["x-queue-type"])
        let classic = Topology(queue: "jobs", queueType: .classic, shards: 2)
        #expect(classic.arguments(for: "jobs.0").map { "\($0.0)=\($0.1)" } == ["x-queue-master-locator=min-masters"])
        #expect(classic.arguments(for: "jobs.failed").isEmpty)
    }

    @Test("a delivery goes back to the shard it came from, else to the first work queue")
    func homeOfADelivery() {
        let sharded = Topology(queue: "jobs", queueType: .classic, shards: 4)
        var delivery = Delivery(tag: 1, body: [], redelivered: false, headers: [:])
        #expect(sharded.home(of: delivery) == "jobs.0")
        delivery.workQueue = "jobs.3"
        #expect(sharded.home(of: delivery) == "jobs.3")
        delivery.workQueue = "other.3"
        #expect(sharded.home(of: delivery) == "jobs.0")
        #expect(Topology(queue: "jobs", queueType: .classic).home(of: delivery) == "jobs")
    }

    @Test("the queues another shard count would use: QUEUE.0 for one shard, QUEUE and QUEUE.N for N")
    func otherShardCounts() {
        #expect(Topology(queue: "jobs", queueType: .classic).otherShardCountsQueues == ["jobs.0"])
        #expect(Topology(queue: "jobs", queueType: .classic, shards: 4).otherShardCountsQueues == ["jobs", "jobs.4"])
    }
}
