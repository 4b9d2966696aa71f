#if canImport(Glibc)
import Glibc
#endif

extension Processor {
    /// While holding nothing: leaves the queue when it looks empty, then samples it until the
    /// drain barrier says to consume again or that the work is done for everyone.
    /// Returns true when the processor should exit.
    func drainCheck(now: Double) throws -> Bool {
        guard let connection else { return false }
        if let tag = consumerTag {
            guard now - lastActivity >= Self.idleCheckDelay else { return false }
            guard let counts = try connection.inspectQueue(topology.queue) else { throw queueMissing() }
            if counts.ready > 0 {
                lastActivity = now
                return false
            }
            try connection.cancel(consumerTag: tag)
            consumerTag = nil
            barrier.reset()
            nextPoll = now
            return false
        }
        guard now >= nextPoll else { return false }
        guard let counts = try connection.inspectQueue(topology.queue) else { throw queueMissing() }
        switch barrier.observe(counts, now: now) {
        case .consume:
            consumerTag = try connection.consume(queue: topology.queue)
            lastActivity = now
        case .wait:
            nextPoll = now + Self.pollInterval
        case .exit:
            return true
        }
        return false
    }

    private func queueMissing() -> WorkQueueError {
        .failure("the work queue '\(topology.queue)' no longer exists (deleted while draining); \(stats.processed) items were processed")
    }

    /// Asks all work to end on its own: SIGTERM to every command's process group, end of file to
    /// every `--stdio` worker (it finishes the item in hand first).
    func askWorkToStop() {
        for item in running { item.child?.signalGroup(SIGTERM) }
        for worker in workers { worker.closeInput() }
        stoppingWorkers = true
    }

    /// Runs the stop sequence after SIGTERM/SIGINT. Returns nil to go on, true to exit now.
    func handleStop(now: Double) throws -> Bool? {
        guard let sig = stopSignal else { return nil }
        try flushAcks()
        if graceDeadline == 0 {
            graceDeadline = now + config.grace
            let what = config.stdio != nil ? "the worker" : config.concurrency > 1 ? "the running commands" : "the running command"
            log.always("got \(sig == SIGINT ? "SIGINT" : "SIGTERM"): taking no new items; waiting up to \(Format.seconds(config.grace)) s for \(what)")
            if let tag = consumerTag, let connection {
                try? connection.cancel(consumerTag: tag)
            }
            consumerTag = nil
            for delivery in waiting where connection != nil {
                try connection?.reject(delivery.tag, requeue: true)
            }
            waiting.removeAll()
            askWorkToStop()
        }
        guard !running.isEmpty else { return true }
        if now >= graceDeadline {
            for i in running.indices where running[i].killedFor != .stop {
                running[i].killedFor = .stop
                running[i].signal(SIGKILL)
            }
        }
        return nil
    }
}
