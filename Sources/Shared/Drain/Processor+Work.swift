#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import AMQPClient
import ProcessRunner

extension Processor {
    /// Starts delivered items while slots (and, with --stdio, running workers) are free. An item
    /// whose attempts its dying processors spent is dead-lettered instead, and one whose death
    /// the broker does not count (a classic queue) is published again with the count first.
    func startWaiting(now: Instant) throws {
        try returnOverdue(now: now)
        while !stop.isRequested, slots.hasFreeSlot, !intake.waiting.isEmpty {
            let attempt: Int
            switch settlement.policy.admit(headers: intake.waiting[0].headers, redelivered: intake.waiting[0].redelivered) {
            case .run(let number):
                attempt = number
            case .restamp(let number, let died):
                let delivery = intake.takeNext()
                try settlement.restamp(
                    delivery, attempt: number, reason: deathReason(of: delivery, died: died), timedOut: timeouts.timedOutHere(delivery), links)
                continue
            case .deadLetter(let attempts, let died):
                let delivery = intake.takeNext()
                slots.taking(delivery.body)
                try settlement.deadLetter(RunningItem(delivery: delivery, generation: links.generation, attempt: attempts, startedAt: clock.now()),
                    reason: deathReason(of: delivery, died: died), exit: nil, attempts: attempts, links)
                continue
            }
            let arrived = intake.nextArrival ?? now
            if config.stdio != nil {
                guard let worker = try slots.freeWorker(now: now) else { return }
                try start(intake.takeNext(), attempt: attempt, on: worker, arrivedAt: arrived)
            } else {
                try start(intake.takeNext(), attempt: attempt, arrivedAt: arrived)
            }
        }
    }

    /// Why a delivery came back from a holder that went away: the broker's consumer_timeout when
    /// this processor saw the broker take this item back for it, else a dead processor.
    private func deathReason(of delivery: Delivery, died: Int) -> String {
        timeouts.timedOutHere(delivery) ? timeouts.reason : FailurePolicy.diedReason(died)
    }

    /// Returns to the queue, without spending an attempt, the waiting deliveries whose broker
    /// deadline comes before a slot did (prefetch above concurrency; see
    /// `ConsumerTimeout.returnBy`): started now, they would be stopped soon; a fresh copy starts
    /// the broker's clock again.
    private func returnOverdue(now: Instant) throws {
        guard let timeout = timeouts.timeout, !stop.isRequested else { return }
        let overdue = intake.takeArrived(before: now - timeout.waitLimit)
        guard !overdue.isEmpty else { return }
        try settlement.returnToQueue(overdue.map { ($0, FailurePolicy.attempt(of: $0)) }, links)
        let items = overdue.count == 1 ? "1 item" : "\(overdue.count) items"
        log.always("\(items) waited for a free slot until near the broker's consumer_timeout (\(timeout.milliseconds) ms); returned to the queue (no attempt spent); lower --prefetch")
    }

    /// True when an item could start now (used to not sleep while one could).
    func canStartNow(now: Instant) -> Bool {
        !stop.isRequested && !intake.waiting.isEmpty && slots.canStart(now: now)
    }

    /// The earliest moment a worker in backoff may start again, if items wait for one.
    func nextWorkerStart(now: Instant) -> Instant? {
        guard !stop.isRequested, !intake.waiting.isEmpty else { return nil }
        return slots.nextWorkerStart
    }

    /// Starts a one-shot command for a delivery (demo work finishes at once).
    private func start(_ delivery: Delivery, attempt: Int, arrivedAt: Instant) throws {
        slots.taking(delivery.body)
        let item = RunningItem(
            delivery: delivery, generation: links.generation, attempt: attempt, startedAt: clock.now(), deliveredAt: arrivedAt)
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
        do {
            var started = item
            if config.spawnAhead {
                // The item on stdin only: the command started before it was known.
                let child = try commandStartedAhead(argv)
                child.give(delivery.body)
                started.child = child
            } else {
                let fits = delivery.body.count <= WorkCommand.environmentItemLimit && !delivery.body.contains(0)
                let workItem = fits ? Array("WORK_ITEM=".utf8) + delivery.body : nil
                started.child = try ChildProcess(
                    argv: argv, environment: slots.environment, adding: workItem, input: delivery.body, executable: command.executable)
            }
            started.setDeadline(
                itemTimeoutAt: config.itemTimeout.map { clock.now() + $0 }, brokerDeadline: timeouts.deadline(arrivedAt: arrivedAt))
            slots.add(started)
        } catch {
            try settle(item, .failed(reason: error.message, exit: nil))
        }
        // The next item's command starts now, while this one works: its start-up (exec, the
        // dynamic loader) runs beside this item instead of after it. A start that fails here is
        // tried again, and reported, when the next item comes.
        while config.spawnAhead, slots.wantsAhead, let next = try? startAhead(argv) { slots.keepAhead(next) }
    }

    /// The command for the next item: the oldest started ahead (polled once here, so `give` knows
    /// whether it ended), else one started now. One that
    /// a signal ended before its item came (the OOM killer, an operator) never saw the item and is
    /// not its failure: it is dropped (already reaped) for the next. One that exited on its own
    /// (it does not read stdin, or cannot start) is the item's: its exit stands, as it would have
    /// had it started after the item came.
    private func commandStartedAhead(_ argv: [[UInt8]]) throws(WorkQueueError) -> ChildProcess {
        while let waiting = slots.takeAhead() {
            if case .signalled? = waiting.poll() { continue }
            return waiting
        }
        return try startAhead(argv)
    }

    /// Starts the command without its item (`--spawn-ahead`): its stdin stays open and empty
    /// until `give`; `argv` holds no item (`{}` is refused with `--spawn-ahead`).
    private func startAhead(_ argv: [[UInt8]]) throws(WorkQueueError) -> ChildProcess {
        try ChildProcess(argv: argv, environment: slots.environment, input: nil, executable: config.command?.executable)
    }

    /// Hands a delivery to a `--stdio` worker as one line.
    private func start(_ delivery: Delivery, attempt: Int, on worker: StdioWorker, arrivedAt: Instant) throws {
        slots.taking(delivery.body)
        let item = RunningItem(
            delivery: delivery, generation: links.generation, attempt: attempt, startedAt: clock.now(), deliveredAt: arrivedAt)
        switch (config.stdio ?? .lines).line(for: delivery.body) {
        case .failure(let error):
            try settle(item, .failed(reason: error.reason, exit: nil, final: true))
        case .success(let line):
            var started = item
            started.worker = worker
            started.setDeadline(
                itemTimeoutAt: config.itemTimeout.map { clock.now() + $0 }, brokerDeadline: timeouts.deadline(arrivedAt: arrivedAt))
            slots.add(started)
            worker.send(line)
        }
    }

    /// Settles an item whose work ended (see `Settlement.settle`); the drain barrier counts it as activity.
    func settle(_ item: RunningItem, _ result: WorkResult) throws {
        intake.touched(now: clock.now())
        try settlement.settle(item, result, links)
    }

    /// Feeds commands' stdin, reads workers' answers, enforces item timeouts and settles every
    /// item whose work ended.
    /// `reap` checks for ended processes (after SIGCHLD), `readWorkers` reads workers' answers.
    /// `startFreed` gives the slots freed to waiting items before the ended ones are settled:
    /// the next command then runs while the last one's result is recorded (and acknowledged
    /// later in the pass), instead of after it; a slot still runs one command at a time. A start
    /// that fails is reported after the ended items are settled, so it never costs their results.
    func checkRunning(reap: Bool = true, readWorkers: Bool = true, startFreed: Bool = false) throws {
        let now = clock.now()
        let collected = slots.collect(now: now, reap: reap, readWorkers: readWorkers, stopping: stop.isRequested, log: log)
        var startFailure: (any Error)?
        if startFreed, !collected.ended.isEmpty, collected.brokenWorker == nil {
            do { try startWaiting(now: now) } catch { startFailure = error }
        }
        var left = collected.ended[...]
        do {
            while let (item, ending) = left.popFirst() { try settle(item, result(of: item, ending)) }
        } catch {
            // Leaving this pass on an error (a lost connection, most often): the broker requeues
            // what could not be settled, as it does for everything this connection held.
            for (item, _) in left {
                log.always("item \(item.label) ended while the processor handled an error; the broker requeues it")
            }
            throw error
        }
        if let startFailure { throw startFailure }
        if let broken = collected.brokenWorker { throw broken }
        slots.enforceTimeouts(now: now)
    }

    /// What the end of the work on an item means for it.
    private func result(of item: RunningItem, _ ending: WorkSlots.Ending) -> WorkResult {
        switch ending {
        case .command(let exit): return result(of: item, exit: exit)
        case .worker(let exit): return result(of: item, exit: exit, worker: true)
        case .reply(.ok): return .succeeded
        case .reply(.fail(let reason)): return .failed(reason: reason, exit: nil)
        case .reply(.protocolError(let line)):
            let shown = ItemLabel.short(Array(line.utf8), limit: 80)
            return .failed(reason: "protocol error: the worker answered '\(shown)' instead of ok or fail", exit: nil)
        }
    }

    /// What an ended command or worker means for its item.
    private func result(of item: RunningItem, exit: ChildExit, worker: Bool = false) -> WorkResult {
        switch item.killedFor {
        case .stop: return .returned
        case .timeout: return .failed(reason: "timed out after \(Format.seconds(config.itemTimeout ?? .zero)) s", exit: exit)
        case .consumerTimeout: return .failed(reason: timeouts.reason, exit: exit)
        // Its result can no longer be acknowledged (its connection is gone, so it is only logged).
        case .abandoned: return .returned
        // A worker that quits on the end of its input (the stop asked it to) without answering
        // for the item in hand did not do it: returned. Otherwise a worker ending while it holds
        // an item fails the attempt, whatever its status: only its "ok" counts.
        case nil where worker && stop.isRequested && (exit.succeeded || exit.endedBy([SIGTERM, SIGINT])): return .returned
        case nil where worker: return .failed(reason: "the --stdio worker exited (\(exit.description)) while working on it", exit: exit)
        case nil where exit.succeeded: return .succeeded
        // Stopped by the SIGTERM the processor passed on (or the convention's 143/130): the
        // pod was stopped, the item did not fail.
        case nil where stop.isRequested && exit.endedBy([SIGTERM, SIGINT]): return .returned
        case nil: return .failed(reason: "command failed with \(exit.description)", exit: exit)
        }
    }

    /// The broker closed the work channel for its consumer_timeout: the value is learned and said
    /// once, the items it took back are remembered (a redelivery of one that comes here is
    /// attributed to the timeout), and the work of that channel is stopped at once: its results
    /// could no longer be acknowledged, and the broker redelivers the items.
    func brokerTimedOut(_ value: ConsumerTimeout?) {
        let now = clock.now()
        if timeouts.brokerClosed(with: value) { log.always(timeouts.explanation) }
        for item in slots.timedOut(now: now, after: timeouts.timeout) { timeouts.sawTimeOut(item.delivery) }
        slots.abandonAll(now: now)
    }
}
