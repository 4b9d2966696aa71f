#if canImport(Glibc)
import Glibc
#endif

extension Processor {
    /// Starts the work for one delivery (demo work finishes at once).
    func start(_ delivery: Delivery) throws {
        lastItem = delivery.body  // shares the buffer; shortened only when an event is sent
        guard let command = config.command else {
            let item = String(decoding: delivery.body, as: UTF8.self)
            if !log.quiet {
                log.output("got id \(item)")
                log.output("processed \(item)")
            }
            running = RunningItem(delivery: delivery, generation: generation)
            try settle(.exited(0))
            return
        }
        guard let argv = command.argv(for: delivery.body) else {
            running = RunningItem(delivery: delivery, generation: generation)
            try fail(reason: "the item holds a NUL byte, which cannot be passed in an argument ({})", exit: nil)
            return
        }
        var environment = baseEnvironment
        if delivery.body.count <= WorkCommand.environmentItemLimit, !delivery.body.contains(0) {
            environment.append(Array("WORK_ITEM=".utf8) + delivery.body)
        }
        do {
            let child = try ChildProcess(argv: argv, environment: environment, input: delivery.body)
            running = RunningItem(
                delivery: delivery, generation: generation, child: child,
                timeoutAt: config.itemTimeout.map { MonotonicClock.now() + $0 })
        } catch let error as WorkQueueError {
            running = RunningItem(delivery: delivery, generation: generation)
            try fail(reason: error.message, exit: nil)
        }
    }

    /// Feeds the command's stdin, enforces the item timeout and settles the item when it ended.
    func checkRunning() throws {
        guard let item = running, let child = item.child else { return }
        child.feedInput()
        if let exit = child.poll() {
            try settle(exit)
            return
        }
        if let timeoutAt = item.timeoutAt, item.killedFor == nil, MonotonicClock.now() >= timeoutAt {
            running?.killedFor = .timeout
            child.signalGroup(SIGKILL)
        }
    }

    /// Acknowledges, retries, dead-letters or returns the running item according to how it ended.
    func settle(_ exit: ChildExit) throws {
        guard let item = running else { return }
        if item.generation != generation || connection == nil {
            running = nil
            log.always("item \(item.label) ended (\(exit.description)) after the connection it came on was lost; the broker has already requeued it")
            return
        }
        switch item.killedFor {
        case .stop:
            running = nil
            try connection?.reject(item.delivery.tag, requeue: true)
            log.always("item \(item.label) returned to the queue: its command was killed after the \(Format.seconds(config.grace)) s grace period")
        case .timeout:
            try fail(reason: "timed out after \(Format.seconds(config.itemTimeout ?? 0)) s", exit: exit)
        case nil where exit.succeeded:
            running = nil
            try connection?.ack(item.delivery.tag)
            stats.processed += 1
            lastActivity = MonotonicClock.now()
        case nil:
            try fail(reason: "command failed with \(exit.description)", exit: exit)
        }
    }

    /// Handles a failed attempt of the running item: publish it again with the next attempt
    /// number, or move it to the dead-letter queue; acknowledge the original only after the
    /// broker confirmed the copy, so the item is never absent from both.
    func fail(reason: String, exit: ChildExit?) throws {
        guard let item = running, let connection else { return }
        running = nil
        lastActivity = MonotonicClock.now()
        stats.failedAttempts += 1
        let attempt = FailurePolicy.attempt(of: item.delivery.headers)
        switch policy.outcome(afterFailedAttempt: attempt) {
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
            log.always("item \(item.label) failed (\(reason)) after \(attempts) attempts; moved to \(topology.deadLetterQueue)")
        }
    }

    /// Publishes a copy of `delivery` to `queue`, waits for the broker's confirm, then
    /// acknowledges the original: the item is never absent from both queues.
    private func move(_ delivery: Delivery, to queue: String, on connection: AMQPConnection, headers: [(String, HeaderValue)]) throws {
        try delivery.body.withUnsafeBytes { try connection.publish(routingKey: queue, body: $0, headers: headers) }
        try connection.waitForConfirms()
        try connection.ack(delivery.tag)
    }
}
