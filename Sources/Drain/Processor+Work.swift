#if canImport(Glibc)
import Glibc
#endif
import Core
import AMQPClient
import ProcessRunner

extension Processor {
    /// Starts delivered items while slots (and, with --stdio, running workers) are free. An item
    /// whose attempts its dying processors spent is dead-lettered instead, and one whose death
    /// the broker does not count (a classic queue) is published again with the count first.
    func startWaiting(now: Double) throws {
        while !stop.isRequested, running.count < config.concurrency, !intake.waiting.isEmpty {
            let attempt: Int
            switch policy.admit(headers: intake.waiting[0].headers, redelivered: intake.waiting[0].redelivered) {
            case .run(let number):
                attempt = number
            case .restamp(let number, let died):
                try restamp(intake.takeNext(), attempt: number, died: died)
                continue
            case .deadLetter(let attempts, let died):
                let delivery = intake.takeNext()
                lastItem = delivery.body
                try deadLetter(RunningItem(delivery: delivery, generation: links.generation, attempt: attempts),
                    reason: FailurePolicy.diedReason(died), exit: nil, attempts: attempts)
                continue
            }
            if config.stdio != nil {
                guard let worker = try freeWorker(now: now) else { return }
                try start(intake.takeNext(), attempt: attempt, on: worker)
            } else {
                try start(intake.takeNext(), attempt: attempt)
            }
        }
    }

    /// True when an item could start now (used to not sleep while one could).
    func canStartNow(now: Double) -> Bool {
        guard !stop.isRequested, running.count < config.concurrency, !intake.waiting.isEmpty else { return false }
        guard config.stdio != nil else { return true }
        return workers.contains { w in !running.contains { $0.worker === w } && (w.isRunning || now >= w.restartAt) }
    }

    /// The earliest moment a worker in backoff may start again, if items wait for one.
    func nextWorkerStart(now: Double) -> Double? {
        guard config.stdio != nil, !stop.isRequested, !intake.waiting.isEmpty, running.count < config.concurrency else { return nil }
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
    private func start(_ delivery: Delivery, attempt: Int) throws {
        lastItem = delivery.body  // shares the buffer; shortened only when an event is sent
        let item = RunningItem(delivery: delivery, generation: links.generation, attempt: attempt)
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
        } catch {
            try settle(item, .failed(reason: error.message, exit: nil))
        }
    }

    /// Hands a delivery to a `--stdio` worker as one line.
    private func start(_ delivery: Delivery, attempt: Int, on worker: StdioWorker) throws {
        lastItem = delivery.body
        let item = RunningItem(delivery: delivery, generation: links.generation, attempt: attempt)
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
            running[i].process?.beginStop(.killNow, now: now)
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
            } else if !stop.isRequested && !stoppingWorkers {
                log.always("the --stdio worker exited (\(exit.description)) between items; restarting it")
            }
        }
    }

    /// What an ended command or worker means for its item.
    private func result(of item: RunningItem, exit: ChildExit, worker: Bool = false) -> WorkResult {
        switch item.killedFor {
        case .stop: return .returned
        case .timeout: return .failed(reason: "timed out after \(Format.seconds(config.itemTimeout ?? 0)) s", exit: exit)
        case nil where exit.succeeded: return .succeeded
        // Stopped by the SIGTERM the processor passed on (or the convention's 143/130): the
        // pod was stopped, the item did not fail.
        case nil where stop.isRequested && exit.endedBy([SIGTERM, SIGINT]): return .returned
        case nil where worker: return .failed(reason: "the --stdio worker exited (\(exit.description)) while working on it", exit: exit)
        case nil: return .failed(reason: "command failed with \(exit.description)", exit: exit)
        }
    }
}
