#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import AMQPClient

/// Where frames go: the terminal, or text / JSON lines on standard output.
package protocol MonitorDisplay: AnyObject {
    /// A descriptor to watch for key presses, or nil.
    var inputDescriptor: Int32? { get }
    /// Shows the latest snapshot (called every interval and after keys).
    func show(_ snapshot: MonitorSnapshot, time: Double)
    /// Handles pending input without blocking (`latest`: the last frame sampled, shown again
    /// when the screen is unpaused); false when the user asked to quit.
    func handleInput(latest: MonitorSnapshot?) -> Bool
    /// What the dead-letter view asked of the broker since the last call (each handed out once).
    func takeDeadLetterRequests() -> [DeadLetterRequest]
    /// Shows what the dead-letter browser holds now.
    func showDeadLetters(_ contents: DeadLetterContents)
}

extension MonitorDisplay {
    /// Displays without keys have no dead-letter view.
    package func takeDeadLetterRequests() -> [DeadLetterRequest] { [] }
    package func showDeadLetters(_ contents: DeadLetterContents) {}
}

/// wqtop's loop: one connection that samples the queue with passive declares and listens to
/// the progress exchange through its own exclusive queue; reconnects with backoff, forever.
package final class MonitorSession {
    package let config: MonitorConfiguration
    private var model: MonitorModel
    private var connection: AMQPConnection?
    private let signals: SignalPipe
    private var backoff: Backoff?
    private var nextConnect: Instant
    private var connectedOnce = false
    private lazy var probe = AlarmProbe(settings: config.connection)
    /// The dead-letter view's connection, from the first time it opened.
    private var deadLetters: DeadLetterBrowser?
    /// When the dead-letter connection's heartbeats are next serviced (monotonic): between
    /// samples too, since `--interval` may be longer than the broker waits for a heartbeat.
    private var nextKeepAlive: Instant
    /// When the first connection was first tried.
    private var firstTry: Instant?
    /// The last frame shown, for a summary after the terminal is restored.
    package private(set) var lastSnapshot: MonitorSnapshot?
    /// Messages in QUEUE.failed at the latest sample (those the dead-letter view holds included);
    /// nil when it is missing or was never sampled.
    private var deadLetterDepth: Int?
    /// The Job's queues as wqtop was told them (its work queues: `QUEUE`, or its shards).
    private let topology: Topology
    /// Whether the shard count was checked again once the Job looked finished (see `ShardCheck`).
    private var shardsCheckedAtEnd = false
    /// The queues the shard check last found (`ShardCheck.probes` that exist).
    private var shardProbesFound: Set<String> = []

    /// The longest wait between two connection attempts.
    static let reconnectDelay: Duration = .seconds(1)

    /// Progress events the monitor's queue keeps when it falls behind (the oldest are dropped).
    static let monitorQueueLength = 10_000

    /// Says errors shown on the screen, remedies in the tool's words.
    private let log: Log
    /// Where the receipt goes as the session ends, checked at start.
    private let receipt: ReceiptFile?

    package init(config: MonitorConfiguration, log: Log = Log()) throws {
        self.config = config
        self.log = log
        self.model = MonitorModel(
            queue: config.connection.queue, endpoint: config.connection.endpoint, interval: config.interval, keepsMetrics: config.serve != nil,
            forgetsOldRuns: config.serve != nil && config.receipt == nil)
        self.receipt = try config.receipt.map(ReceiptFile.init(checking:))
        self.topology = Topology(config.connection)
        self.signals = try SignalPipe(signals: [SIGTERM, SIGINT, SIGHUP])
        let now = MonotonicClock.now()
        self.nextConnect = now
        self.nextKeepAlive = now
    }

    /// Runs until quit, `--once`, `--exit-when-drained` or a signal; returns the exit code.
    /// With --once or --json, a first connection that fails is an error (exit 69/77). With
    /// `--receipt`, the receipt is written on every end that returns a code.
    package func run(display: MonitorDisplay) throws -> Int32 {
        // The dead-letter view gives back what it holds after the receipt counted it.
        defer { deadLetters?.close() }
        let code = try watch(display: display)
        if let receipt { try receipt.write(finalReceipt(code: code)) }
        return code
    }

    /// The receipt as the session ends with `code`: the queues sampled once more (reconnecting once
    /// if the connection was lost), unless a signal ended it (a pod being stopped has a grace
    /// period to keep, and a silent network would hold each sample up to the RPC timeout): then
    /// the last samples stand, the dead-letter queue's depth included (sampled with the work queue).
    private func finalReceipt(code: Int32) -> Receipt {
        let now = MonotonicClock.now()
        let signalled = [ExitCode.interrupted, ExitCode.terminated, ExitCode.hangUp].contains(code)
        if !signalled {
            if connection == nil { try? connect(now: now) }
            if connection != nil { sample(now: now) }
        }
        let snapshot = model.snapshot(at: now)
        let endedBy = switch code {
        case ExitCode.interrupted: "SIGINT"
        case ExitCode.terminated: "SIGTERM"
        case ExitCode.hangUp: "hang-up"
        default: config.exitWhenDrained && snapshot.finished ? "drained" : config.output.isOnce ? "once" : "quit"
        }
        return Receipt(snapshot: snapshot, endedAt: WallClock.now(), endedBy: endedBy, deadLetterQueueDepth: deadLetterDepth)
    }

    /// The loop of `run`.
    private func watch(display: MonitorDisplay) throws -> Int32 {
        var nextSample = MonotonicClock.now()
        while true {
            let now = MonotonicClock.now()
            if connection == nil && now >= nextConnect {
                try connect(now: now)
                if connection != nil { sample(now: now) }
                nextSample = now + config.interval
            }
            var deadline = min(nextSample, connection == nil ? nextConnect : nextSample)
            if deadLetters?.isConnected == true { deadline = min(deadline, nextKeepAlive) }
            let terminalGone = waitForEvents(until: deadline, display: display)
            for sig in signals.drain().map(\.number) {
                return sig == SIGINT ? ExitCode.interrupted : sig == SIGTERM ? ExitCode.terminated : ExitCode.hangUp
            }
            // The terminal closed (its window or tmux session went away): nobody is watching.
            if terminalGone { return ExitCode.hangUp }
            readEvents()
            if display.inputDescriptor != nil, !display.handleInput(latest: lastSnapshot) {
                return ExitCode.success
            }
            serveDeadLetters(display)
            let time = MonotonicClock.now()
            if let browser = deadLetters, time >= nextKeepAlive {
                nextKeepAlive = time + browser.keepAlivePeriod
                if let changed = browser.keepAlive() { display.showDeadLetters(changed) }
            }
            guard time >= nextSample else { continue }
            nextSample += config.interval
            if nextSample < time { nextSample = time + config.interval }
            if connection != nil { sample(now: time) }
            // --once and --json print nothing before a first connection (or its error); --serve's
            // pages say it is not connected.
            if !connectedOnce && !config.keepsTrying { continue }
            var snapshot = model.snapshot(at: time)
            // Before the Job is first taken for finished, the shard count is checked once more.
            if snapshot.finished && !shardsCheckedAtEnd, let connection {
                shardsCheckedAtEnd = true
                do { try checkShardCount(on: connection) } catch { lost(error, now: time) }
                snapshot = model.snapshot(at: time)
            }
            snapshot.metrics?.deadLettersWaiting = deadLetterDepth
            lastSnapshot = snapshot
            // --once with --exit-when-drained prints its one frame at the end.
            if config.output.isOnce && config.exitWhenDrained && !snapshot.finished { continue }
            display.show(snapshot, time: WallClock.now())
            if config.output.isOnce { return ExitCode.success }
            if config.exitWhenDrained && snapshot.finished { return ExitCode.success }
        }
    }

    private func connect(now: Instant) throws {
        do {
            let connection = try AMQPConnection(settings: config.connection)
            model.link.eventsOff = try subscribe(connection)
            try checkShardCount(on: connection)
            self.connection = connection
            model.link.connectionProblem = nil
            model.link.listening(since: now)
            backoff = nil
            connectedOnce = true
        } catch {
            // With --once or --json, a first connection is tried again only while --connect-timeout
            // lasts and the failure may pass; then it is an error (exit 69/77).
            if firstTry == nil { firstTry = now }
            let mayPass = error.kind == .unavailable || error.kind == .connectionLost
            let spent = now - (firstTry ?? now) >= config.connection.connectTimeout
            if !connectedOnce && (error.kind == .usage || (!config.keepsTrying && (!mayPass || spent))) {
                throw error.reclassified(as: mayPass ? .unavailable : error.kind)
            }
            lost(error, now: now)
        }
    }

    /// Binds a queue of wqtop's own to the progress exchange and consumes it. A refusal (a user
    /// without configure permission on server-named queues, or without read on the exchange)
    /// is not the end: wqtop goes on with the queue's counts, and the reason is returned for
    /// the banner.
    private func subscribe(_ connection: AMQPConnection) throws(WorkQueueError) -> String? {
        do {
            do {
                try connection.declareFanoutExchange(config.progressExchange)
            } catch let error where error.kind != .connectionLost {
                try connection.declareFanoutExchange(config.progressExchange, passive: true)
            }
            let queue = try connection.declarePrivateQueue(boundTo: config.progressExchange, maxLength: Self.monitorQueueLength)
            _ = try connection.consume(queue: queue, acknowledge: false, exclusive: true)
            return nil
        } catch where error.kind == .accessRefused {
            return error.message
        }
    }

    private func lost(_ error: WorkQueueError, now: Instant) {
        if connection != nil { model.link.connectionLost(at: now) }
        model.link.errors += 1
        connection?.abandon()
        connection = nil
        // Its word on alarms is as old as the lost connection's: asked again once reconnected.
        probe.close()
        if backoff == nil { backoff = Backoff(limit: nil, now: now) }
        // At most a second apart: events sent while wqtop is not bound are lost to it (a
        // processor that ran only then is not counted), so it listens again as soon as it can.
        let delay = min(Self.reconnectDelay, backoff?.nextDelay(now: now) ?? Self.reconnectDelay)
        nextConnect = now + delay
        model.link.connectionProblem = "\(log.describe(error)) (next try in \(NumberFormat.duration(delay.inSeconds)))"
    }

    private func sample(now: Instant) {
        guard let connection else { return }
        probe.poll(now: now)
        model.link.brokerAlarm = probe.alarm
        do {
            if topology.shards == 1 {
                model.sample(try connection.inspectQueue(topology.queue), at: now)
            } else {
                var rows: [ShardRow] = []
                for name in topology.workQueues { rows.append(ShardRow(queue: name, counts: try connection.inspectQueue(name))) }
                model.sample(shards: rows, at: now)
            }
            // A suspected wrong shard count is looked at again each sample, in the queues found
            // (a missing one would cost a channel error each time): it clears once they are
            // deleted or empty.
            if model.shardMismatch != nil { try checkShardCount(on: connection, onlyThoseFound: true) }
            // What the view holds is not ready, but still in the queue.
            deadLetterDepth = try connection.inspectQueue(topology.deadLetterQueue)
                .map { $0.ready + (deadLetters?.heldCount ?? 0) }
        } catch {
            lost(error, now: now)
        }
    }

    /// Looks for queues that say the Job has another shard count (`ShardCheck`), by passive
    /// declares (`onlyThoseFound`: of those found last time, the others taken as still missing);
    /// only a lost connection is an error (anything else leaves the model's word as it was).
    private func checkShardCount(on connection: AMQPConnection, onlyThoseFound: Bool = false) throws(WorkQueueError) {
        let check = ShardCheck(topology: topology)
        do {
            var found: [QueueCounts?] = []
            for name in check.probes {
                found.append(onlyThoseFound && !shardProbesFound.contains(name) ? nil : try connection.inspectQueue(name))
            }
            shardProbesFound = Set(zip(check.probes, found).compactMap { $1 == nil ? nil : $0 })
            model.shardMismatch = check.verdict(found)
        } catch where error.kind == .connectionLost {
            throw error
        } catch {
            return
        }
    }

    /// Does what the dead-letter view asked.
    private func serveDeadLetters(_ display: MonitorDisplay) {
        for request in display.takeDeadLetterRequests() {
            let browser = deadLetters ?? DeadLetterBrowser(config: config, log: log)
            deadLetters = browser
            browser.brokerAlarm = probe.alarm
            display.showDeadLetters(browser.perform(request))
        }
    }

    /// Reads every progress event that has arrived.
    private func readEvents() {
        guard let connection else { return }
        do {
            // At most 5,000 events or 100 ms at a time: the loop then looks at signals, keys and
            // the clock (a sample, a page) before reading on.
            var budget = 5000
            let until = MonotonicClock.now() + .milliseconds(100)
            while budget > 0, let event = try connection.nextEvent(timeout: .zero) {
                budget -= 1
                if case .delivery(let delivery) = event {
                    model.receive(delivery.body, at: MonotonicClock.now(), wallTime: WallClock.now())
                }
                if budget % 100 == 0 && MonotonicClock.now() >= until { break }
            }
        } catch {
            lost(error, now: MonotonicClock.now())
        }
    }

    /// Waits for the broker, keys or a signal; true when the terminal hung up.
    private func waitForEvents(until deadline: Instant, display: MonitorDisplay) -> Bool {
        if connection?.hasBufferedInput == true { return false }
        var fds = [pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0)]
        if let connection { fds.append(pollfd(fd: connection.socketDescriptor, events: Int16(POLLIN), revents: 0)) }
        if let input = display.inputDescriptor { fds.append(pollfd(fd: input, events: Int16(POLLIN), revents: 0)) }
        let timeout = Int32((deadline - MonotonicClock.now()).roundedUpMilliseconds)
        guard poll(&fds, nfds_t(fds.count), timeout) > 0, let input = display.inputDescriptor else { return false }
        return fds.contains { $0.fd == input && $0.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 }
    }
}
