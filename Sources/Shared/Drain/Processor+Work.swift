#if canImport(Glibc)
import Glibc
#endif

extension Processor {
    /// Starts delivered items while slots (and, with --stdio, running workers) are free.
    func startWaiting(now: Double) throws {
        while stopSignal == nil, running.count < config.concurrency, !waiting.isEmpty {
            if config.stdio != nil {
                guard let worker = try freeWorker(now: now) else { return }
                try start(waiting.removeFirst(), on: worker)
            } else {
                try start(waiting.removeFirst())
            }
        }
    }

    /// True when an item could start now (used to not sleep while one could).
    func canStartNow(now: Double) -> Bool {
        guard stopSignal == nil, running.count < config.concurrency, !waiting.isEmpty else { return false }
        guard config.stdio != nil else { return true }
        return workers.contains { w in !running.contains { $0.worker === w } && (w.isRunning || now >= w.restartAt) }
    }

    /// The earliest moment a worker in backoff may start again, if items wait for one.
    func nextWorkerStart(now: Double) -> Double? {
        guard config.stdio != nil, stopSignal == nil, !waiting.isEmpty, running.count < config.concurrency else { return nil }
        return workers.filter { !$0.isRunning }.map(\.restartAt).min()
    }

    /// A worker holding no item, started if needed; nil while all are busy or backing off.
    private func freeWorker(now: Double) throws -> StdioWorker? {
        for worker in workers where !running.contains(where: { $0.worker === worker }) {
            if try worker.startIfDue(now: now) { return worker }
        }
        return nil
    }

    /// Starts a one-shot command for a delivery (demo work finishes at once).
    private func start(_ delivery: Delivery) throws {
        lastItem = delivery.body  // shares the buffer; shortened only when an event is sent
        let item = RunningItem(delivery: delivery, generation: generation)
        guard let command = config.command else {
            if !log.quiet {
                let text = String(decoding: delivery.body, as: UTF8.self)
                log.output("got id \(text)")
                log.output("processed \(text)")
            }
            try settle(item, .succeeded)
            return
        }
        guard let argv = command.argv(for: delivery.body) else {
            try settle(item, .failed(reason: "the item holds a NUL byte, which cannot be passed in an argument ({})", exit: nil))
            return
        }
        var environment = baseEnvironment
        if delivery.body.count <= WorkCommand.environmentItemLimit, !delivery.body.contains(0) {
            environment.append(Array("WORK_ITEM=".utf8) + delivery.body)
        }
        do {
            var started = item
            started.child = try ChildProcess(argv: argv, environment: environment, input: delivery.body, executable: command.executable)
            started.timeoutAt = config.itemTimeout.map { MonotonicClock.now() + $0 }
            running.append(started)
        } catch let error as WorkQueueError {
            try settle(item, .failed(reason: error.message, exit: nil))
        }
    }

    /// Hands a delivery to a `--stdio` worker as one line.
    private func start(_ delivery: Delivery, on worker: StdioWorker) throws {
        lastItem = delivery.body
        let item = RunningItem(delivery: delivery, generation: generation)
        switch (config.stdio ?? .lines).line(for: delivery.body) {
        case .failure(let error):
            try settle(item, .failed(reason: error.reason, exit: nil, final: true))
        case .success(let line):
            var started = item
            started.worker = worker
            started.timeoutAt = config.itemTimeout.map { MonotonicClock.now() + $0 }
            running.append(started)
            worker.send(line)
        }
    }

    /// Feeds commands' stdin, reads workers' answers, enforces item timeouts and settles every
    /// item whose work ended.
    /// `reap` checks for ended processes (after SIGCHLD), `readWorkers` reads workers' answers.
    func checkRunning(reap: Bool = true, readWorkers: Bool = true) throws {
        let now = MonotonicClock.now()
        var index = 0
        while index < running.count {
            let item = running[index]
            guard let child = item.child else {
                index += 1
                continue
            }
            child.feedInput()
            if reap, let exit = child.poll() {
                running.remove(at: index)
                try settle(item, result(of: item, exit: exit))
                continue
            }
            index += 1
        }
        for worker in workers where reap || readWorkers {
            for event in worker.poll(now: now, reap: reap) { try handle(event, from: worker) }
            if worker.crashesInRow >= Self.workerCrashLimit && !workers.contains(where: \.everAnswered) {
                throw WorkQueueError.failure(
                    "the --stdio worker exited \(worker.crashesInRow) times in a row without answering a single item; see its stderr above")
            }
        }
        for i in running.indices {
            guard let timeoutAt = running[i].timeoutAt, running[i].killedFor == nil, now >= timeoutAt else { continue }
            running[i].killedFor = .timeout
            running[i].signal(SIGKILL)
        }
    }

    /// Exits in a row, without any worker ever answering, after which the processor gives up (a
    /// broken worker); once workers answered, a crash is a failed attempt of the item in hand.
    static let workerCrashLimit = 5

    private func handle(_ event: StdioWorker.Event, from worker: StdioWorker) throws {
        let index = running.firstIndex { $0.worker === worker }
        switch event {
        case .reply(let reply):
            guard let index else {
                log.always("the --stdio worker wrote a line with no item in hand; ignored (protocol error)")
                return
            }
            let item = running.remove(at: index)
            switch reply {
            case .ok: try settle(item, .succeeded)
            case .fail(let reason): try settle(item, .failed(reason: reason, exit: nil))
            case .protocolError(let line):
                let shown = ItemLabel.short(Array(line.utf8), limit: 80)
                try settle(item, .failed(reason: "protocol error: the worker answered '\(shown)' instead of ok or fail", exit: nil))
            }
        case .exited(let exit):
            if let index {
                let item = running.remove(at: index)
                if item.killedFor != nil { worker.forgiveLastExit() }
                try settle(item, result(of: item, exit: exit, worker: true))
            } else if stopSignal == nil && !stoppingWorkers {
                log.always("the --stdio worker exited (\(exit.description)) between items; restarting it")
            }
        }
    }

    /// What an ended command or worker means for its item.
    private func result(of item: RunningItem, exit: ChildExit, worker: Bool = false) -> WorkResult {
        switch item.killedFor {
        case .stop: return .returned
        case .timeout: return .failed(reason: "timed out after \(Format.seconds(config.itemTimeout ?? 0)) s", exit: exit)
        case nil where worker: return .failed(reason: "the --stdio worker exited (\(exit.description)) while working on it", exit: exit)
        case nil where exit.succeeded: return .succeeded
        case nil: return .failed(reason: "command failed with \(exit.description)", exit: exit)
        }
    }

    /// Acknowledges, retries, dead-letters or returns an item whose work ended.
    func settle(_ item: RunningItem, _ result: WorkResult) throws {
        lastActivity = MonotonicClock.now()
        guard item.generation == generation, let connection else {
            log.always("item \(item.label) ended after the connection it came on was lost; the broker has already requeued it")
            return
        }
        switch result {
        case .succeeded:
            // Acknowledged in batches (flushAcks), at the latest before the loop waits; counted
            // as processed once acknowledged.
            pendingAcks.append(item.delivery.tag)
            if pendingAcks.count >= Self.ackBatch { try flushAcks() }
        case .returned:
            try connection.reject(item.delivery.tag, requeue: true)
            log.always("item \(item.label) returned to the queue: its work was killed after the \(Format.seconds(config.grace)) s grace period")
        case .failed(let reason, let exit, let final):
            try fail(item, reason: reason, exit: exit, final: final, on: connection)
        }
    }

    /// A failed attempt: publish the item again with the next attempt number, or move it to the
    /// dead-letter queue; acknowledge the original only after the broker confirmed the copy, so
    /// the item is never absent from both.
    private func fail(_ item: RunningItem, reason: String, exit: ChildExit?, final: Bool, on connection: AMQPConnection) throws {
        stats.failedAttempts += 1
        let attempt = FailurePolicy.attempt(of: item.delivery.headers)
        switch final ? .deadLetter(attempts: attempt) : policy.outcome(afterFailedAttempt: attempt) {
        case .retry(let next):
            try move(item.delivery, to: topology.queue, on: connection,
                headers: [(FailurePolicy.attemptsHeader, .int(Int64(next))), ("x-last-failure", .string(reason))])
            stats.retried += 1
            log.always("item \(item.label) failed (\(reason)); attempt \(attempt) of \(config.maxAttempts), queued again")
        case .deadLetter(let attempts):
            var headers: [(String, HeaderValue)] = [
                (FailurePolicy.attemptsHeader, .int(Int64(attempts))),
                ("x-failure-reason", .string(reason)),
                ("x-failed-by", .string(config.podName)),
            ]
            if let exit { headers.append(("x-exit-status", .int(exit.statusNumber))) }
            try move(item.delivery, to: topology.deadLetterQueue, on: connection, headers: headers)
            stats.deadLettered += 1
            let tries = final ? "" : " after \(attempts) attempts"
            log.always("item \(item.label) failed (\(reason))\(tries); moved to \(topology.deadLetterQueue)")
        }
    }

    /// Publishes a copy of `delivery` to `queue`, waits for the broker's confirm, then
    /// acknowledges the original: the item is never absent from both queues.
    private func move(_ delivery: Delivery, to queue: String, on connection: AMQPConnection, headers: [(String, HeaderValue)]) throws {
        try delivery.body.withUnsafeBytes { try connection.publish(routingKey: queue, body: $0, headers: headers) }
        try connection.waitForConfirms()
        try connection.ack(delivery.tag)
    }

    /// Successes acknowledged at once at most.
    static let ackBatch = 64

    /// Acknowledges finished items: one `multiple` ack for every tag below the oldest item still
    /// held (all below it are settled), single acks for the rest (finished out of order while an
    /// older item still runs; they must not wait for it, or they would hold the prefetch window).
    func flushAcks() throws {
        guard !pendingAcks.isEmpty, let connection else { return }
        let held = running.lazy.filter { $0.generation == self.generation }.map(\.delivery.tag).min()
        let floor = min(held ?? .max, waiting.first?.tag ?? .max)
        var highestBelow: UInt64?
        for tag in pendingAcks {
            if tag < floor {
                highestBelow = max(highestBelow ?? 0, tag)
            } else {
                try connection.ack(tag)
            }
        }
        if let highestBelow { try connection.ack(highestBelow, multiple: true) }
        stats.processed += pendingAcks.count
        pendingAcks.removeAll(keepingCapacity: true)
    }

    /// Closes every worker's stdin and waits up to `until` for them to exit, then kills the rest.
    func stopWorkers(until deadline: Double) {
        guard !workers.isEmpty else { return }
        askWorkToStop()
        while workers.contains(where: \.isRunning) && MonotonicClock.now() < deadline {
            for worker in workers { _ = worker.poll(now: MonotonicClock.now()) }
            Sleep.seconds(0.01)
        }
        for worker in workers where worker.isRunning {
            worker.signal(SIGKILL)
            while worker.isRunning { _ = worker.poll(now: MonotonicClock.now()); Sleep.seconds(0.005) }
        }
    }
}
