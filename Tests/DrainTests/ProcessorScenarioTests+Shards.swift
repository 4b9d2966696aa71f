import Testing
import Glibc
import Core
import Platform
import ProcessRunner
import Drain

/// The processor's loop over several shards (`QUEUE.0` ... `QUEUE.N-1`), against the in-memory
/// broker: one consumer per shard, the barrier over all of them, copies back to their own shard.
extension ProcessorScenarioTests {
    func shardedProcessor(
        _ broker: InMemoryBroker, _ clock: TestLoopClock, shards: Int, command: String,
        configure: (inout ProcessorConfiguration) -> Void = { _ in }
    ) throws -> Processor {
        try processor(broker, clock, command: command) {
            $0.connection.shards = shards
            configure(&$0)
        }
    }

    @Test func shardedProcessorTakesTheItemsOfEveryShardAndSplitsItsPrefetchOverThem() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [["a", "b"], [], ["c"], ["d", "e", "f"]])
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 4, command: "exit 0") {
            $0.prefetch = 8
            // Progress on: acknowledgements are then confirmed by a basic.qos, which must keep the split.
            $0.progressExchange = "\(self.queue).progress"
        }
        let code = try processor.run()
        #expect(code == 0)
        #expect(Set(strings(broker.acknowledged)) == ["a", "b", "c", "d", "e", "f"])
        #expect(broker.acknowledged.count == 6)
        #expect(processor.stats.processed == 6)
        // Every basic.qos of the channel (before consuming, and those that confirm acknowledgements,
        // which apply to consumers registered later): 8 over 4 shards, 2 each.
        #expect(broker.prefetches.count > 1)
        #expect(broker.prefetches.allSatisfy { $0 == 2 }, "\(broker.prefetches)")
        // The idle samples looked at every shard; QUEUE and QUEUE.4 (another shard count's)
        // only once, at the exit: the guard costs idle samples nothing.
        for i in 0..<4 { #expect(broker.inspections["\(queue).\(i)", default: 0] >= 2) }
        #expect(broker.inspections[queue] == 1)
        #expect(broker.inspections["\(queue).4"] == 1)
    }

    @Test func connectionLostWhileConsumingPartWayOverTheShardsConsumesThemAllAgainAndDoesEveryItemOnce() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [["a", "b"], ["c"], ["d", "e"]])
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 3, command: "exit 0") { $0.prefetch = 3 }
        // Shard 0's consumer is registered, then the connection goes before shard 1's.
        var lost = false
        var consumed: [String] = []
        broker.onConsume = { name in
            consumed.append(name)
            if !lost && name == "\(self.queue).1" {
                lost = true
                broker.loseConnections()
            }
        }
        let code = try processor.run()
        #expect(code == 0)
        #expect(lost)
        // After the reconnect every shard got a consumer again, each once per connection.
        #expect(Array(consumed.prefix(5)) == ["0", "1", "0", "1", "2"].map { "\(queue).\($0)" }, "\(consumed)")
        #expect(broker.acknowledged.count == 5)
        #expect(Set(strings(broker.acknowledged)) == ["a", "b", "c", "d", "e"])
        #expect((0..<3).allSatisfy { broker.ready("\(queue).\($0)").isEmpty })
        #expect(processor.stats.processed == 5)
    }

    @Test func idleProcessorWaitsWhileAPeerHoldsTheOnlyItemOfOneShard() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [[], [], []])
        // A peer consumes every shard (as every processor does) and holds shard 1's only item.
        for i in 0..<3 { broker.otherConsumers["\(queue).\(i)"] = 1 }
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 3, command: "exit 0")
        var samples = 0
        broker.onInspect = { name in
            guard name == "\(self.queue).1", broker.otherConsumers[name] == 1 else { return }
            samples += 1
            if samples == 20 {
                // The peer dies: its consumers go, the item comes back to shard 1, marked redelivered.
                for i in 0..<3 { broker.otherConsumers["\(self.queue).\(i)"] = 0 }
                broker.queues[name, default: []].append(InMemoryBroker.Message(body: Array("x".utf8), redelivered: true))
            }
        }
        let code = try processor.run()
        #expect(code == 0)
        #expect(samples == 20)
        #expect(clock.skipped >= .seconds(5))
        #expect(processor.stats.processed == 1)
        // The redelivered item was restamped (its dead holder counted) back into shard 1, then done.
        #expect(broker.copies.map(\.queue) == ["\(queue).1"])
        for i in 0..<3 { #expect(broker.ready("\(queue).\(i)").isEmpty) }
    }

    @Test func idleProcessorWaitsForAPeerThatHoldsWorkOnOneShardOnly() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [[], [], [], []])
        // Only shard 3 counts a consumer: the most any shard counts is what the barrier sees.
        broker.otherConsumers["\(queue).3"] = 1
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 4, command: "exit 0")
        var samples = 0
        broker.onInspect = { name in
            guard name == "\(self.queue).3" else { return }
            samples += 1
            if samples == 12 { broker.otherConsumers[name] = 0 }
        }
        let code = try processor.run()
        #expect(code == 0)
        // Waited through the 12 samples that showed the peer (0.5 s apart), exited after it left.
        #expect(samples > 12)
        #expect(clock.skipped >= .seconds(4))
    }

    @Test func retriesAndDeadLettersGoBackToTheShardTheItemCameFromAndToTheOneFailedQueue() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [["a"], [], ["b"]])
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 3, command: "exit 3") { $0.maxAttempts = 3 }
        let code = try processor.run()
        #expect(code == 0)
        // Two retries each, to the shard it came from; then the one QUEUE.failed.
        #expect(broker.copies.filter { $0.body == "a" }.map(\.queue) == ["\(queue).0", "\(queue).0", "\(queue).failed"])
        #expect(broker.copies.filter { $0.body == "b" }.map(\.queue) == ["\(queue).2", "\(queue).2", "\(queue).failed"])
        #expect(Set(broker.ready("\(queue).failed")) == ["a", "b"])
        #expect(processor.stats.deadLettered == 2)
    }

    @Test func itemsReturnedOnSigtermGoBackToTheirOwnShards() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [["a"], ["b"], ["c"]])
        let clock = TestLoopClock()
        let ready = "/tmp/wq-scenario-\(getpid())-shards"
        unlink(ready)
        defer { unlink(ready) }
        // Three items in hand (prefetch 3: one per shard), one running; SIGTERM once it started.
        let processor = try shardedProcessor(broker, clock, shards: 3, command: ": > \(ready); exec sleep 60") {
            $0.prefetch = 3
            $0.grace = .seconds(1)
        }
        var signalled = false
        broker.onRead = { [unowned processor] in
            if !signalled && access(ready, F_OK) == 0 {
                signalled = true
                processor.requestStop(SIGTERM)
            }
        }
        let code = try processor.run()
        #expect(signalled)
        #expect(code == 143)
        for (i, item) in ["a", "b", "c"].enumerated() {
            #expect(broker.ready("\(queue).\(i)") == [item])
            #expect(broker.copies.filter { $0.body == item }.map(\.queue) == ["\(queue).\(i)"])
        }
        #expect(Set(strings(broker.acknowledged)) == ["a", "b", "c"])
    }

    @Test func processorOfOneShardRefusesToExitZeroWhileShardsOfAnotherCountHoldWork() throws {
        // The loader used --shards 2; this processor was started with --shards 1.
        let broker = InMemoryBroker(queue: queue, items: [])
        broker.queues["\(queue).0"] = [InMemoryBroker.Message(body: Array("x".utf8))]
        let clock = TestLoopClock()
        let processor = try processor(broker, clock, command: "exit 0")
        #expect {
            _ = try processor.run()
        } throws: { error in
            guard let error = error as? WorkQueueError else { return false }
            return error.kind == .usage && error.message.contains("'\(queue).0' holds 1 ready items") && error.message.contains("--shards")
        }
        #expect(broker.ready("\(queue).0") == ["x"])
    }

    @Test func connectionLostWhileLookingAtAnotherShardCountIsNoExitZeroAndTheLookIsMadeAgain() throws {
        // The loader used --shards 2 for part of the work; the connection goes just as this
        // processor (--shards 1) looks at QUEUE.0 before its exit.
        let broker = InMemoryBroker(queue: queue, items: ["a"])
        broker.queues["\(queue).0"] = [InMemoryBroker.Message(body: Array("x".utf8))]
        let clock = TestLoopClock()
        let processor = try processor(broker, clock, command: "exit 0")
        var lost = false
        broker.onInspect = { name in
            if !lost && name == "\(self.queue).0" {
                lost = true
                broker.loseConnections()
            }
        }
        #expect {
            _ = try processor.run()
        } throws: { error in
            guard let error = error as? WorkQueueError else { return false }
            return error.kind == .usage && error.message.contains("'\(queue).0' holds 1 ready items")
        }
        #expect(lost)
        #expect(broker.connections.count >= 4)
        #expect(broker.inspections["\(queue).0"] ?? 0 >= 2)
        #expect(strings(broker.acknowledged) == ["a"])
        #expect(broker.ready("\(queue).0") == ["x"])
    }

    @Test func shardedProcessorRefusesToExitZeroWhileTheOneQueueOfAnotherCountHoldsWork() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [[], []])
        broker.queues[queue] = [InMemoryBroker.Message(body: Array("x".utf8))]
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 2, command: "exit 0")
        #expect(throws: WorkQueueError.self) { _ = try processor.run() }
        #expect(broker.ready(queue) == ["x"])
    }

    @Test func quorumShardsWhoseConsumersNeverPulseAreTakenAsLostAfterTheWindowNotBefore() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [[], [], []])
        // A processor of a lost node: its consumers stay counted on every shard and never pulse.
        for i in 0..<3 { broker.otherConsumers["\(queue).\(i)"] = 1 }
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 3, command: "exit 0") { $0.connection.queueType = .quorum }
        let code = try processor.run()
        #expect(code == 0)
        // Two pulse periods without a change (LostConsumerProof.window), not sooner.
        #expect(clock.skipped >= LostConsumerProof.window)
        #expect(clock.skipped < LostConsumerProof.window + .seconds(5))
        for i in 0..<3 { #expect(broker.inspections["\(queue).\(i)", default: 0] >= 20) }
    }

    @Test func quorumShardsMustLookEmptyFor2SecondsBeforeTheExit() throws {
        let broker = InMemoryBroker(shardsOf: queue, items: [[], ["a"]])
        let clock = TestLoopClock()
        let processor = try shardedProcessor(broker, clock, shards: 2, command: "exit 0") { $0.connection.queueType = .quorum }
        let code = try processor.run()
        #expect(code == 0)
        #expect(processor.stats.processed == 1)
        // A shard electing a leader answers 0/0: the empty samples of all shards must span 2 s.
        #expect(clock.skipped >= DrainBarrier.quorumEmptySpan)
    }
}
