#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import ProcessRunner

/// The slots that work on items, at most `concurrency` at once: a one-shot command per item, a
/// line handed to a long-lived `--stdio` worker, or demo work. The one owner of the running items
/// and the workers: it starts nothing itself, but says what ended, steps stops and timeouts and
/// ends all work on the way out. The processor decides what an ending means for the item.
struct WorkSlots {
    let concurrency: Int
    /// Items being worked on, oldest first.
    private(set) var running: [RunningItem] = []
    /// The long-lived workers of `--stdio`, one per slot; empty without `--stdio`.
    let workers: [StdioWorker]
    /// The environment commands run with: the processor's, without `WORK_ITEM` (made once).
    let environment: CommandEnvironment
    /// Set once workers are shut down on purpose (their exits are not news).
    private(set) var stoppingWorkers = false
    /// The last item started, shown as current between two items.
    private(set) var lastItem: [UInt8]?
    /// Commands started ahead of their items (`--spawn-ahead`), oldest first: each waits, its stdin
    /// open and empty, for the next item. They hold no item: nothing is lost when they are killed.
    private var ahead: [ChildProcess] = []

    /// Exits in a row, without any worker ever answering, after which the processor gives up (a
    /// broken worker); once workers answered, a crash is a failed attempt of the item in hand.
    static let workerCrashLimit = 5

    init(concurrency: Int, workers: [StdioWorker] = [], environment: [[UInt8]] = []) {
        self.concurrency = concurrency
        self.workers = workers
        self.environment = CommandEnvironment(environment)
    }

    var isEmpty: Bool { running.isEmpty }
    var count: Int { running.count }
    var hasFreeSlot: Bool { running.count < concurrency }
    private var usesWorkers: Bool { !workers.isEmpty }

    /// True when an item could start now: a slot is free and, with `--stdio`, a free worker runs
    /// or may start again.
    func canStart(now: Instant) -> Bool {
        guard hasFreeSlot else { return false }
        guard usesWorkers else { return true }
        return workers.contains { w in !isBusy(w) && (w.isRunning || w.restartAt.map { now >= $0 } ?? true) }
    }

    /// The earliest moment a worker in backoff may start again, when a slot is free for it.
    var nextWorkerStart: Instant? {
        guard usesWorkers, hasFreeSlot else { return nil }
        return workers.filter { !$0.isRunning }.compactMap(\.restartAt).min()
    }

    /// The earliest item timeout.
    var nextTimeout: Instant? { running.compactMap(\.timeoutAt).min() }

    /// A worker holding no item, started if due; nil while all are busy or backing off.
    func freeWorker(now: Instant) throws(WorkQueueError) -> StdioWorker? {
        for worker in workers where !isBusy(worker) {
            if try worker.startIfDue(now: now) { return worker }
        }
        return nil
    }

    private func isBusy(_ worker: StdioWorker) -> Bool { running.contains { $0.worker === worker } }

    /// The item that has been running longest: the one to watch for a straggler.
    var oldest: RunningItem? { running.first }

    /// Notes the item taken next (for progress events), whether it runs or is moved at once.
    mutating func taking(_ body: [UInt8]) {
        lastItem = body  // shares the buffer; shortened only when an event is sent
    }

    /// The oldest command started ahead, taken to run the next item; nil when none waits.
    mutating func takeAhead() -> ChildProcess? {
        ahead.isEmpty ? nil : ahead.removeFirst()
    }

    /// True when an item's command has ended and was reaped already, so no SIGCHLD will tell:
    /// the loop collects it without waiting.
    var hasReapedWork: Bool { running.contains { $0.child?.exit != nil } }

    /// True while fewer commands wait ahead than there are slots (one per slot is enough).
    var wantsAhead: Bool { ahead.count < concurrency }

    /// Keeps a command started ahead until an item comes for it.
    mutating func keepAhead(_ child: ChildProcess) {
        ahead.append(child)
    }

    /// Kills every command started ahead (SIGKILL to its group before its stdin closes, so none
    /// sees end of file and runs on an empty item); `endAll` reaps them.
    func killAhead() {
        for child in ahead { child.signalGroup(SIGKILL) }
    }

    /// Puts an item whose work started into a slot.
    mutating func add(_ item: RunningItem) {
        running.append(item)
    }

    /// How the work on an item ended.
    enum Ending {
        /// Its command exited.
        case command(ChildExit)
        /// Its worker answered.
        case reply(StdioReply)
        /// Its worker exited while working on it.
        case worker(ChildExit)
    }

    /// What `collect` found: the items whose work ended, taken out of their slots, in order, and
    /// why to give up when a `--stdio` worker keeps dying without ever answering (reported after
    /// the ended items are settled, so the item in hand goes through the retry rules).
    struct Collected {
        var ended: [(RunningItem, Ending)] = []
        var brokenWorker: WorkQueueError?
    }

    /// Feeds commands' stdin, reaps ended commands (`reap`, after SIGCHLD) and reads workers'
    /// answers (`readWorkers`).
    mutating func collect(now: Instant, reap: Bool, readWorkers: Bool, stopping: Bool, log: Log) -> Collected {
        var ended: [(RunningItem, Ending)] = []
        var index = 0
        while index < running.count {
            guard let child = running[index].child else {
                index += 1
                continue
            }
            child.feedInput()
            // A command reaped already (one started ahead that ended before its item came, reaped
            // when it was given the item) left no SIGCHLD to wait for.
            if reap || child.exit != nil, let exit = child.poll() {
                ended.append((running.remove(at: index), .command(exit)))
                continue
            }
            index += 1
        }
        for worker in workers where reap || readWorkers {
            for event in worker.poll(now: now, reap: reap) {
                let index = running.firstIndex { $0.worker === worker }
                switch (event, index) {
                case (.reply(let reply), let index?):
                    ended.append((running.remove(at: index), .reply(reply)))
                case (.reply, nil):
                    log.always("the --stdio worker wrote a line with no item in hand; ignored (protocol error)")
                case (.exited(let exit), let index?):
                    let item = running.remove(at: index)
                    if item.killedFor != nil { worker.forgiveLastExit() }
                    ended.append((item, .worker(exit)))
                case (.exited(let exit), nil):
                    if !stopping && !stoppingWorkers {
                        log.always("the --stdio worker exited (\(exit.description)) between items; restarting it")
                    }
                }
            }
            if worker.crashesInRow >= Self.workerCrashLimit && !workers.contains(where: \.everAnswered) {
                return Collected(ended: ended, brokenWorker: .failure(
                    "the --stdio worker exited \(worker.crashesInRow) times in a row without answering a single item; see its stderr above"))
            }
        }
        return Collected(ended: ended)
    }

    /// Kills (SIGKILL to the group) the work on items past their deadline (`--item-timeout` or
    /// the broker's consumer_timeout, see `RunningItem.setDeadline`).
    mutating func enforceTimeouts(now: Instant) {
        for i in running.indices {
            guard let timeoutAt = running[i].timeoutAt, running[i].killedFor == nil, now >= timeoutAt else { continue }
            running[i].killedFor = running[i].timeoutFor
            running[i].process?.beginStop(.killNow, now: now)
        }
    }

    /// The items the broker's consumer_timeout took back when it closed the channel: those held
    /// at least about `timeout` (the broker checks on a tick, so never less), or, when the value
    /// is unknown or none was held that long, the one held longest.
    func timedOut(now: Instant, after timeout: ConsumerTimeout?) -> [RunningItem] {
        let held = running.filter { item in timeout.map { now - item.arrivedAt >= $0.duration * 0.9 } ?? false }
        if !held.isEmpty { return held }
        return running.min { $0.arrivedAt < $1.arrivedAt }.map { [$0] } ?? []
    }

    /// What of this processor's work `pid` is, or runs in the process group of (each command and
    /// worker leads a group of its own), said for a log line; nil when it is none of ours (0: the
    /// kernel, or a sender outside our pid namespace, as a container runtime).
    func work(of pid: pid_t) -> String? {
        guard pid > 0 else { return nil }
        let group = getpgid(pid)
        func ours(_ child: ChildProcess?) -> Bool { child.map { $0.pid == pid || $0.pid == group } ?? false }
        if let item = running.first(where: { ours($0.process) }) { return "the work on item \(item.label)" }
        if workers.contains(where: { ours($0.child) }) { return "a --stdio worker" }
        if ahead.contains(where: { ours($0) }) { return "a command started ahead" }
        return nil
    }

    /// Kills (SIGKILL to the group) the work on every item whose result can no longer be
    /// acknowledged (its channel closed, its queue deleted); returns the work queue each came
    /// from (empty: not known), one per item that was running. They are reaped and settled as
    /// usual: an item of a lost connection is only logged.
    @discardableResult
    mutating func abandonAll(now: Instant) -> [String] {
        var killed: [String] = []
        for i in running.indices where running[i].killedFor == nil || running[i].killedFor == .stop {
            running[i].killedFor = .abandoned
            running[i].process?.beginStop(.killNow, now: now)
            killed.append(running[i].delivery.workQueue)
        }
        return killed
    }

    /// Asks all work to end on its own (SIGTERM to every command's process group, end of file to
    /// every worker, which finishes the item in hand first); each item's stop plan then gives it
    /// `grace` before SIGKILL.
    mutating func askToStop(grace: Duration, now: Instant) {
        killAhead()
        for i in running.indices {
            running[i].stopping = running[i].process?.beginStop(running[i].stopPlan(grace: grace), now: now)
        }
        for worker in workers { worker.closeInput() }
        stoppingWorkers = true
    }

    /// Steps every item's stop plan. Returns the items given up on (SIGKILL did not end their
    /// work within `StopPlan.killWait`), taken out of their slots.
    mutating func advanceStops(now: Instant) -> [RunningItem] {
        for i in running.indices {
            if running[i].stopping?.advance(now: now).contains(.signal(SIGKILL)) == true { running[i].killedFor = .stop }
        }
        let givenUp = running.filter { $0.stopping?.isFinished == true }
        running.removeAll { $0.stopping?.isFinished == true }
        return givenUp
    }

    /// Ends every command and worker, on every way out, by their stop plans: SIGTERM to each
    /// command's process group and end of file to each worker, a wait until `deadline`, SIGKILL to
    /// what is left and at most `StopPlan.killWait` for it to be reaped. Results that arrive now
    /// are dropped: the caller is leaving, so the broker returns those items. Commands started
    /// ahead get SIGKILL at once. Empties the slots.
    /// `deadline` is on `clock` (the loop's); the processes are waited for in real time.
    mutating func endAll(until deadline: Instant, clock: any LoopClock, log: Log) {
        defer {
            running.removeAll()
            ahead.removeAll()
        }
        let grace = max(.zero, deadline - clock.now())
        let itemCommands = running.compactMap(\.child)
        let commands = itemCommands + ahead
        let stops =
            ahead.map { StopSequence(.startedAhead, for: $0) }
            + itemCommands.map { StopSequence(.command(grace: grace), for: $0) }
            + workers.compactMap(\.child).map { StopSequence(.worker(grace: grace), for: $0) }
        guard !stops.isEmpty else { return }
        stoppingWorkers = true
        let workers = self.workers
        let left = StopSequence.run(stops) {
            for child in commands { _ = child.poll() }
            for worker in workers where worker.isRunning { _ = worker.poll(now: clock.now()) }
        }
        for process in left {
            if workers.contains(where: { $0.child === process }) {
                log.always("the --stdio worker (pid \(process.pid)) did not end within \(Format.seconds(StopPlan.killWait)) s of SIGKILL; leaving it")
            } else {
                log.always("process \(process.pid) did not end within \(Format.seconds(StopPlan.killWait)) s of SIGKILL; leaving it")
            }
        }
    }

    /// Commands' stdin while input is left, for `poll(2)` (POLLOUT).
    var commandInputs: [pollfd] {
        running.compactMap { item in
            guard let fd = item.child?.stdinFD, fd >= 0 else { return nil }
            return pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        }
    }

    /// Workers' answers (POLLIN) and their stdin while a line is half written (POLLOUT).
    var workerDescriptors: [pollfd] {
        var fds: [pollfd] = []
        for worker in workers {
            if worker.outputFD >= 0 { fds.append(pollfd(fd: worker.outputFD, events: Int16(POLLIN), revents: 0)) }
            if worker.pendingInputFD >= 0 { fds.append(pollfd(fd: worker.pendingInputFD, events: Int16(POLLOUT), revents: 0)) }
        }
        return fds
    }
}
