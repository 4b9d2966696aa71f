#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import AMQPClient
import ProcessRunner

extension Processor {
    /// While holding nothing: leaves the queues when they look empty, then samples every shard
    /// until the drain barrier says to consume again or that the work is done for everyone.
    /// Returns true when the processor should exit.
    func drainCheck(now: Instant) throws -> Bool {
        guard let connection else { return false }
        switch intake.idleStep(now: now) {
        case .none:
            return false
        case .checkWhileConsuming:
            if try sampleWorkQueues(on: connection).ready > 0 {
                intake.touched(now: now)
            } else {
                try cancelEveryConsumer(on: connection)
                intake.leftEmptyQueue(now: now)
            }
            return false
        case .sample:
            break
        }
        let counts = try sampleWorkQueues(on: connection)
        // Processors stopping while they still hold items stand on QUEUE.stopping (what they
        // hold comes back to the work queue before they leave it), and live holders pulse there.
        var stopping: Int?
        if intake.wantsStoppingSample(after: counts, now: now) {
            stopping = try connection.inspectQueue(topology.stoppingQueue)?.consumers ?? 0
        }
        switch intake.observe(counts, stopping: stopping, now: now) {
        case .consume:
            try consumeEveryShard(on: connection, now: now)
        case .wait:
            break
        case .exit:
            if let lost = intake.lostConsumers {
                log.always(
                    "\(lost) \(lost == 1 ? "consumer" : "consumers") counted by the broker did not prove alive for \(Int(intake.lostConsumerWindow.inSeconds)) s: taken as lost with a cluster node (RabbitMQ keeps quorum-queue consumers of a node that is down counted)")
            }
            try checkShardCountAgrees(on: connection)
            return true
        }
        return false
    }

    /// One passive declare per work queue: ready items added up, consumers the most any shard
    /// counts (`QueueCounts.adding(shard:)`: every processor consumes from every shard, so one
    /// holder shows on each). A missing shard ends the processor like a deleted queue.
    private func sampleWorkQueues(on connection: any WorkBroker) throws -> QueueCounts {
        var total = QueueCounts(ready: 0, consumers: 0)
        for queue in topology.workQueues {
            guard let counts = try connection.inspectQueue(queue) else { throw queueMissing(queue) }
            total = total.adding(shard: counts)
        }
        return total
    }

    /// Before exiting 0: work in a queue of another shard count (`QUEUE.0` for a processor of one
    /// shard, `QUEUE` or `QUEUE.N` for one of N) means the tools disagree on `--shards`, and this
    /// processor would leave that work to nobody. Looked at once, at the exit, so idle samples
    /// cost nothing more; a missing or empty queue there is the normal case.
    private func checkShardCountAgrees(on connection: any WorkBroker) throws {
        for queue in topology.otherShardCountsQueues {
            // Only a lost connection stops the exit (the barrier samples again after the reconnect);
            // any other refusal leaves the guard out rather than failing a finished drain.
            let found: QueueCounts?
            do {
                found = try connection.inspectQueue(queue)
            } catch {
                if error.kind == .connectionLost { throw error }
                continue
            }
            guard let counts = found, counts.ready > 0 || counts.consumers > 0 else { continue }
            throw WorkQueueError.usage(
                "the queue '\(queue)' holds \(counts.ready) ready items and \(counts.consumers) consumers, but this processor drains \(topology.workQueuesText) (--shards \(topology.shards)): every tool of the Job must use the same --shards / WORK_QUEUE_SHARDS; \(settlement.stats.processed) items were processed")
        }
    }

    /// `stopped`: the work queue of each item whose work was killed (empty: not known). Those of
    /// the missing queue went with it; those of another shard go back to it as the connection
    /// closes (unacknowledged).
    private func queueMissing(_ queue: String? = nil, stopped: [String] = []) -> WorkQueueError {
        let missing = queue ?? topology.queue
        let gone = stopped.filter { $0.isEmpty || $0 == missing }.count
        let back = stopped.count - gone
        var work = ""
        if gone > 0 { work += gone == 1 ? "; the work on 1 item was stopped (it went with the queue)" : "; the work on \(gone) items was stopped (they went with the queue)" }
        if back > 0 {
            work += back == 1
                ? "; the work on 1 item of another shard was stopped (it goes back to its shard)"
                : "; the work on \(back) items of other shards was stopped (they go back to their shards)"
        }
        return .failure("the work queue '\(missing)' no longer exists (deleted while draining)\(work); \(settlement.stats.processed) items were processed")
    }

    /// While work runs (every `Intake.busyCheckInterval`) and after the broker cancelled the
    /// consumer: a deleted work queue ends the processor (exit 1) at once, its running work
    /// killed (their items went with the queue, no result can be acknowledged). With shards, one
    /// shard per look, in turn (a Job's queues are deleted together), so the cost stays one
    /// passive declare per 2 s whatever the shard count.
    func checkQueueExists() throws {
        guard let connection else { return }
        let queue = topology.shardQueue(intake.nextShardToCheck(of: topology.shards))
        guard try connection.inspectQueue(queue) == nil else { return }
        throw queueMissing(queue, stopped: slots.abandonAll(now: clock.now()))
    }

    /// Runs the stop sequence after SIGTERM/SIGINT. Returns nil to go on, true to exit now.
    ///
    /// It stands as a consumer on `QUEUE.stopping` (registered before its work consumer is
    /// cancelled, left only by exiting), so idle peers wait for what it may return instead of
    /// taking the work for done.
    func handleStop(now: Instant) throws -> Bool? {
        guard stop.isRequested else { return nil }
        if stop.begin(now: now, grace: config.grace) {
            let what = config.stdio != nil ? "the worker" : config.concurrency > 1 ? "the running commands" : "the running command"
            log.always("got \(stop.signalName): taking no new items; waiting up to \(Format.seconds(config.grace)) s for \(what)")
            // First, so that a connection lost below does not skip it.
            slots.askToStop(grace: config.grace, now: now)
            if let connection {
                // Whatever it holds (running, prefetched, copies on their way, deliveries still in
                // flight behind the cancel) keeps idle peers waiting until it is settled.
                try standAsStopping(on: connection)
                try? cancelEveryConsumer(on: connection)
            }
            intake.stoppedConsuming()
            try settlement.returnToQueue(intake.takeAll().map { ($0, FailurePolicy.attempt(of: $0)) }, links)
        }
        try settlement.flush(links)
        // A process that SIGKILL does not end (stuck in the kernel) is given up on once its plan
        // is spent; its item goes back to the queue as if it had ended.
        for item in slots.advanceStops(now: now) {
            log.always("the work on item \(item.label) did not end within \(Format.seconds(StopPlan.killWait)) s of SIGKILL; leaving it")
            try settle(item, .returned)
        }
        guard slots.isEmpty else { return nil }
        // Deliveries sent before the cancel took effect may still be buffered: back with them.
        for _ in 0..<64 where connection?.hasBufferedInput == true { try receive() }
        try settlement.pump(links, now: clock.now())
        guard settlement.holdsCopies else { return true }
        // Copies still unconfirmed: wait for their confirms (a moment, or while the grace lasts
        // when the broker blocks publishing); then leave, and the broker returns the originals
        // when the connection closes.
        if stop.mayWaitForReturns(now: now, publishingBlocked: settlement.publishingBlockedFor != nil) { return nil }
        log.always("\(settlement.copiesInFlight) items could not be returned within the grace period (\(settlement.publishingBlockedFor.map { "the broker blocks publishing: \($0)" } ?? "no confirm")); the broker returns them as this processor exits")
        return true
    }

    /// Registers on `QUEUE.stopping`. Without it (no permission, queue deleted) peers may take
    /// the work for done while this processor still holds items: said in one line, not fatal.
    private func standAsStopping(on connection: any WorkBroker) throws {
        do {
            _ = try connection.standAsConsumer(of: topology.stoppingQueue)
        } catch {
            guard error.kind != .connectionLost else { throw error }
            log.always("cannot stand as a consumer on \(topology.stoppingQueue) (\(log.describe(error))); idle processors may exit before the items this one holds come back")
        }
    }
}
