#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import AMQPClient
import ProcessRunner

/// The processor's event loop: one thread waits with `poll(2)` on the broker's socket, the signal
/// pipe and the running command's stdin, so heartbeats are serviced however long the work runs.
package final class Processor {
    package let config: ProcessorConfiguration
    let log: Log
    let signals: SignalPipe
    /// The queues' names (from `config`; a value, not state).
    var topology: Topology { Topology(config.connection) }

    /// The consuming and the publishing connection.
    var links: BrokerLinks
    /// Consumes and acknowledges; never publishes, so a resource alarm never blocks it.
    var connection: (any WorkBroker)? { links.consume }
    /// Publishes copies (retries, dead letters, returns) with confirms, and progress events.
    var publisher: (any WorkBroker)? { links.publish }
    /// The consumer, the delivered items waiting for a slot, and the drain barrier.
    var intake: Intake
    /// The consumer on `QUEUE.stopping` that shows peers this processor alive while it holds work.
    var pulse: Pulse
    /// Items being worked on (at most `config.concurrency`) and the `--stdio` workers.
    var slots: WorkSlots
    /// SIGTERM/SIGINT and the deadlines of the stop that follows.
    var stop = StopRequest()
    /// The broker's consumer_timeout, given or learned, and the items it took back.
    var timeouts: ConsumerTimeoutWatch
    var progress: ProgressPublisher
    /// Acknowledgements, copies on their way and their confirms, the repeat notes, the counts.
    let settlement: Settlement
    /// The loop's clock: the system's, or a test's.
    let clock: any LoopClock
    let startedAt: Instant

    /// The cumulative counts (kept by `settlement`).
    package var stats: ProcessorStats { settlement.stats }

    /// `clock` and `opener` are for unit tests (a hand-driven clock, an in-memory broker).
    package init(
        config: ProcessorConfiguration, log: Log, clock: any LoopClock = SystemLoopClock(),
        opener: @escaping BrokerOpener = AMQPConnection.open
    ) throws {
        self.config = config
        self.log = log
        self.clock = clock
        self.startedAt = clock.now()
        self.links = BrokerLinks(startAddress: config.connection.startAddress, opener: opener)
        self.signals = try SignalPipe()
        // Quorum queues keep counting the consumers of a lost node; classic queues drop them.
        let quorum = config.connection.queueType == .quorum
        self.intake = Intake(startedAt: startedAt, waitForWork: config.waitForWork, quorum: quorum)
        self.pulse = Pulse(enabled: quorum)
        self.timeouts = ConsumerTimeoutWatch(given: config.consumerTimeout)
        self.progress = ProgressPublisher(
            exchange: config.progressExchange, queue: config.connection.queue, pod: config.podName)
        let environment = ProcessEnvironment.current()
            .filter { $0.key != "WORK_ITEM" }
            .map { Array("\($0.key)=\($0.value)".utf8) }
        var workers: [StdioWorker] = []
        if config.stdio != nil, let command = config.command {
            workers = (0..<config.concurrency).map { _ in
                StdioWorker(argv: command.arguments.map { Array($0.utf8) }, environment: environment, executable: command.executable)
            }
        }
        self.slots = WorkSlots(concurrency: config.concurrency, workers: workers, environment: environment)
        self.settlement = Settlement(config: config, log: log, clock: clock)
        settlement.reports = self
    }

    /// A stop signal (SIGTERM, SIGINT) as if it came through the signal pipe: for unit tests,
    /// which must not signal their own process.
    package func requestStop(_ signal: Int32) {
        stop.note(signal)
    }

    /// Drains the queue; returns the exit code.
    package func run() throws -> Int32 {
        let s = config.connection
        log.info("connecting to work queue \(s.firstAddress.host) \(s.firstAddress.port)")
        try retryWhileUnreachable(within: s.connectTimeout, retrying: log.unreachable) {
            do {
                try connect()
            } catch {
                dropConnections()
                throw error
            }
        }
        log.info("connected to work queue at \(connection?.whereConnected ?? s.endpoint)")
        do {
            var pass = LoopPass()
            while true {
                do {
                    if try step(&pass) { break }
                } catch let error as WorkQueueError where error.kind == .connectionLost {
                    if !(try reconnect(after: error)) { break }
                }
            }
        } catch let error as WorkQueueError {
            settlement.settleCopies(within: .seconds(2), links)
            // Safe: the batcher never covers an item whose move failed.
            try? settlement.flush(links)
            // Commands and workers must not outlive the processor: their items come back from
            // the broker when the connection closes and would run twice at once.
            endAllWork(until: clock.now() + min(config.grace, .seconds(5)))
            reportProgress(now: clock.now(), force: true, exitCode: error.exitCode)
            closeConnections()
            throw error
        }
        endAllWork(until: stop.graceDeadline ?? clock.now() + config.grace)
        do {
            try settlement.flush(links)
            // The final event names nothing unsettled that the broker surely has.
            try settlement.sync(links, force: true)
        } catch let error as WorkQueueError {
            closeConnections()
            throw error
        }
        let code = finish()
        reportProgress(now: clock.now(), force: true, exitCode: code)
        closeConnections()
        return code
    }

    /// What one pass of the loop leaves the next: what `poll(2)` said of the publishing
    /// connection, and when children were last reaped and the consuming socket last read.
    private struct LoopPass {
        /// `poll(2)` found the publishing connection readable (at first: look).
        var publisherReadable = true
        /// nil until the first: the first pass reaps and reads whatever `poll(2)` says.
        var lastReap: Instant?
        var lastReceive: Instant?

        /// Whether the last of these is a second old or more (or there was none yet).
        static func due(_ last: Instant?, now: Instant) -> Bool {
            last.map { now - $0 >= .seconds(1) } ?? true
        }
    }

    /// One pass of the loop; true when the processor should stop.
    private func step(_ pass: inout LoopPass) throws -> Bool {
        let now = clock.now()
        try pulseStep()
        if let stopped = try handleStop(now: now) { return stopped }
        try startWaiting(now: now)
        try settlement.pump(links, now: now, read: pass.publisherReadable)
        pass.publisherReadable = false
        // Acknowledgements are not held while stopping, nor with --no-progress (no event to save).
        try settlement.pace(links, now: now, waiting: intake.waiting.count, mayHold: !stop.isRequested && progress.isOn)
        try settlement.syncWhenDue(links, now: now)
        if holdsNothing {
            if try drainCheck(now: now) { return true }
        } else if !slots.isEmpty, intake.busyCheckDue(now: now) {
            try checkQueueExists()
        }
        // Reported here, between taking an item and waiting, so "in hand" is what the work holds.
        reportProgress(now: now)
        let ready = waitForEvents(until: nextDeadline(now: now))
        // Children are reaped after a signal (SIGCHLD), and once a second in case one was missed.
        let reap = ready.signals || LoopPass.due(pass.lastReap, now: now)
        // Before reaping: a signal's sender is looked up among the running work, which a reap
        // may end (a command that signals its processor and exits at once).
        if reap {
            for sig in signals.drain() { note(sig) }
            pass.lastReap = now
        }
        try checkRunning(reap: reap, readWorkers: reap || ready.workers, startFreed: true)
        pass.publisherReadable = ready.publisher
        if ready.socket || LoopPass.due(pass.lastReceive, now: now) {
            pass.lastReceive = now
            try receive()
        }
        return false
    }

    /// Which descriptors `poll(2)` found ready; everything counts as ready when it was not asked.
    struct Readiness {
        var socket = true
        var signals = true
        var publisher = true
        var workers = true
    }

    /// Sleeps in `poll(2)` until a descriptor is ready or `deadline` passes.
    private func waitForEvents(until deadline: Instant) -> Readiness {
        guard let connection else { return Readiness() }
        if connection.hasBufferedInput || publisher?.hasBufferedInput == true {
            // Not polled: the publisher counts as readable only with bytes already read, so a
            // busy consumer does not cost a look at the publisher on every pass.
            var ready = Readiness()
            ready.publisher = publisher?.hasBufferedInput == true
            return ready
        }
        // With enough delivered items waiting, the socket is not watched: each acknowledgement
        // would otherwise wake the loop for the one delivery it frees. Its frames are read in a
        // batch once the waiting items run low (and at least once a second).
        let watchSocket = intake.waiting.count < max(1, config.prefetch / 2) || stop.isRequested
        var fds = [
            pollfd(fd: watchSocket ? connection.socketDescriptor : -1, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0),
            // Confirms of copies and connection.blocked / unblocked; read by `Settlement.pump`.
            pollfd(fd: publisher?.socketDescriptor ?? -1, events: Int16(POLLIN), revents: 0),
        ]
        fds += slots.commandInputs
        let firstWorkerFD = fds.count
        fds += slots.workerDescriptors
        let timeout = Int32(clock.sleepBudget(until: deadline).roundedUpMilliseconds)
        if poll(&fds, nfds_t(fds.count), timeout) < 0 {
            // Interrupted by a signal (SIGCHLD): its byte is in the pipe now; look again at once.
            guard poll(&fds, nfds_t(fds.count), 0) >= 0 else { return Readiness() }
        }
        return Readiness(
            socket: fds[0].revents != 0, signals: fds[1].revents != 0, publisher: fds[2].revents != 0,
            workers: fds[firstWorkerFD...].contains { $0.revents != 0 })
    }

    /// The next moment something must be checked without any descriptor becoming ready.
    private func nextDeadline(now: Instant) -> Instant {
        // Items already delivered wait for no descriptor: take the next one at once.
        if canStartNow(now: now) || slots.hasReapedWork { return now }
        var deadline = now + .seconds(1)
        if let restart = nextWorkerStart(now: now) { deadline = min(deadline, restart) }
        if let graceDeadline = stop.graceDeadline, !slots.isEmpty || settlement.holdsCopies {
            deadline = min(deadline, now < graceDeadline ? graceDeadline : now + .milliseconds(50))
        }
        if let timeoutAt = slots.nextTimeout { deadline = min(deadline, timeoutAt) }
        if let arrived = intake.nextArrival, let due = timeouts.returnBy(arrivedAt: arrived) { deadline = min(deadline, due) }
        if let acksDue = settlement.acksDue { deadline = min(deadline, acksDue) }
        if let pulseDue = nextPulseSwitch(now: now) { deadline = min(deadline, pulseDue) }
        if !slots.isEmpty { deadline = min(deadline, max(now, intake.nextBusyCheck)) }
        if holdsNothing {
            deadline = min(deadline, intake.nextIdleCheck)
        }
        if let heartbeat = connection?.heartbeat, heartbeat > 0 {
            deadline = min(deadline, now + .seconds(heartbeat) / 4)
        }
        return deadline
    }

    /// Reads what the broker sent: deliveries and consumer cancels.
    func receive() throws {
        guard let connection else { return }
        var budget = 256
        while budget > 0, let event = try connection.nextEvent(timeout: .zero) {
            budget -= 1
            // More only when already buffered: poll tells about the socket without an EAGAIN read.
            if !connection.hasBufferedInput { budget = 0 }
            switch event {
            case .delivery(var delivery):
                // The shard it came from: retries and returns go back there.
                delivery.workQueue = intake.workQueue(consumedBy: delivery.consumerTag) ?? ""
                settlement.delivered(delivery)
                if stop.isRequested {
                    // Sent before the consumer was cancelled: straight back, spending nothing.
                    intake.arrived(now: clock.now())
                    try settlement.returnToQueue([(delivery, FailurePolicy.attempt(of: delivery))], links)
                } else {
                    intake.delivered(delivery, now: clock.now())
                }
            case .cancelledByBroker:
                // The other shards' consumers go too, so that consuming again takes every shard once.
                for tag in intake.consumerTags.keys { try? connection.cancel(consumerTag: tag) }
                intake.cancelledByBroker()
                try checkQueueExists()
                log.always("the broker cancelled this consumer, but the work queue \(topology.workQueuesText) is still there; consuming again once this processor holds nothing")
            }
        }
    }

    /// Not stopping, and nothing in hand: no item waiting or running, no copy on its way.
    private var holdsNothing: Bool {
        slots.isEmpty && intake.waiting.isEmpty && !settlement.holdsCopies && !stop.isRequested
    }

    private func finish() -> Int32 {
        let elapsed = clock.now() - startedAt
        if let code = stop.exitCode {
            log.always(
                "stopped by \(stop.signalName) after \(stats.processed) items (\(stats.deadLettered) failed) in \(Format.seconds(elapsed)) s")
            return code
        }
        var line = "processed all work: \(stats.processed) items (\(stats.deadLettered) failed) in \(Format.seconds(elapsed)) s"
        if stats.retried > 0 || stats.deadLettered > 0 {
            line += "; \(stats.retried) retried, \(stats.deadLettered) moved to \(topology.deadLetterQueue)"
        }
        log.always(line)
        if config.failOnDeadLetters && stats.deadLettered > 0 { return ExitCode.failure }
        return ExitCode.success
    }
}
