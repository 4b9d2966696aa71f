import Core
import Platform
import AMQPClient
import QueueActions

/// The dead-letter view's side of the broker: a connection of its own that consumes
/// `QUEUE.failed` with manual acknowledgements and holds what it received, unacknowledged, while
/// the view is open. Closing that connection (the view closed, wqtop quit or was killed) gives
/// every held item back, and the broker puts them back where they were: browsing never loses or
/// reorders anything. `r` acknowledges a held item only after the broker confirmed its copy in the
/// work queue (with shards, the next shard round-robin: `Topology.shardQueue`); `R` gives everything back and moves the queue as `loader --from-failed` does.
///
/// Like `AMQPConnection` it belongs to the one thread that made it.
package final class DeadLetterBrowser {
    private let settings: ConnectionSettings
    private let topology: Topology
    private let progressExchange: String
    private let log: Log
    /// How many items a browse holds at most (the consumer's prefetch).
    let limit: Int
    private var connection: AMQPConnection?
    /// What is held, each with the row id the view shows for it. Delivery tags start again at 1
    /// on every browse's channel, so a tag would name another item after a browse (`u` then `r`
    /// typed at once); ids are never reused by this browser.
    private var held: [(id: UInt64, delivery: Delivery, whole: Bool, row: DeadLetterRow)] = []
    /// Bytes of the bodies held whole.
    private var keptBytes = 0
    private var lastID: UInt64 = 0
    private var contents: DeadLetterContents
    /// When the items were taken (monotonic): the broker gives back deliveries held past its
    /// consumer_timeout (30 min by default), so a move after `stale` seconds browses again first.
    private var heldSince: Instant?
    static let stale: Duration = .seconds(25 * 60)
    /// Seconds a move waits for confirms while the broker blocks publishing before it gives up
    /// (the held original goes back; the copy may still be stored later: a duplicate at worst).
    static let blockedLimit: Duration = .seconds(10)
    /// Single moves count as one load run of this browser (load events, for the progress bar).
    private var events: LoadEventPublisher
    private var moved = 0
    /// Why the broker blocks publishers, while it does (the session's alarm probe says): moves
    /// would wait for the alarm's end with the screen frozen, so they are refused meanwhile.
    package var brokerAlarm: String?

    package init(config: MonitorConfiguration, log: Log, limit: Int = 1000) {
        var settings = config.connection
        settings.clientName = "wqtop (dead letters)"
        // The screen waits while the view connects: not for long.
        settings.connectTimeout = min(settings.connectTimeout, .seconds(5))
        self.settings = settings
        self.topology = Topology(settings)
        self.progressExchange = config.progressExchange
        self.log = log
        self.limit = max(1, min(limit, Int(UInt16.max)))
        self.contents = DeadLetterContents(queue: topology.deadLetterQueue, workQueue: topology.workQueuesText)
        self.events = LoadEventPublisher(exchange: config.progressExchange, queue: settings.queue, total: nil)
    }

    deinit { close() }

    /// Does what the view asked; returns what it holds now. Failures become the contents' note.
    package func perform(_ request: DeadLetterRequest) -> DeadLetterContents {
        switch request {
        case .browse: browse()
        case .move(let tag): move(tag)
        case .moveAll: moveAll()
        case .close: close()
        }
        return contents
    }

    /// Dead letters held now (not ready in the queue while held).
    package var heldCount: Int { held.count }

    /// Whether a connection (holding dead letters) is open: its heartbeats need answers.
    package var isConnected: Bool { connection != nil }

    /// The time between two `keepAlive` calls while connected: half the heartbeat, at most 10 s.
    var keepAlivePeriod: Duration { settings.heartbeat > 0 ? min(.seconds(10), .seconds(settings.heartbeat) / 2) : .seconds(10) }

    /// Services heartbeats while items are held; the changed contents when the connection was lost.
    package func keepAlive() -> DeadLetterContents? {
        guard let connection else { return nil }
        do {
            try connection.readAvailable(heartbeats: true)
            return nil
        } catch {
            lost(error, doing: "the connection holding the dead letters")
            return contents
        }
    }

    /// Gives every held item back to the broker (by closing the connection).
    package func close() {
        connection?.close()
        connection = nil
        held = []
        keptBytes = 0
        contents.rows = []
    }

    private func browse(note: DeadLetterNote? = nil) {
        // What this view held comes back as its connection closes: browsed again at once, a
        // quorum queue may not have them ready yet, and the view would show them missing.
        let released = held.count
        close()
        contents = DeadLetterContents(queue: topology.deadLetterQueue, workQueue: topology.workQueuesText)
        contents.limit = limit
        contents.note = note
        contents.browsedAt = WallClock.now()
        do {
            let connection = try AMQPConnection(settings: settings)
            self.connection = connection
            guard var counts = try connection.inspectQueue(topology.deadLetterQueue) else {
                contents.exists = false
                close()
                return
            }
            if released > 0, counts.ready < released {
                try waitForReturned(released, on: connection)
                counts = try connection.inspectQueue(topology.deadLetterQueue) ?? counts
            }
            try connection.enableConfirms()
            if let error = events.prepare(on: connection) {
                contents.note = DeadLetterNote("load events are off: \(log.describe(error))", isError: true)
            }
            try take(min(counts.ready, limit))
            heldSince = MonotonicClock.now()
            contents.rows = held.map(\.row)
            contents.waiting = try connection.inspectQueue(topology.deadLetterQueue)?.ready ?? 0
        } catch {
            lost(error, doing: "browsing \(topology.deadLetterQueue)")
        }
    }

    /// The most bytes of item bodies a browse keeps whole: beyond them only the start of each
    /// body is kept (what a row shows), and such an item is moved by `R` only.
    static let byteBudget = 64 << 20
    /// Bytes kept of a body beyond the budget.
    static let keptPrefix = DeadLetterRow.itemBytes

    /// Takes up to `expected` items on one consumer (one, so that a quorum queue too gets them
    /// back in order), then cancels it: what it received stays held.
    private func take(_ expected: Int) throws(WorkQueueError) {
        guard let connection, expected > 0 else { return }
        try connection.setPrefetch(limit)
        let consumer = try connection.consume(queue: topology.deadLetterQueue)
        let deadline = MonotonicClock.now() + .seconds(5)
        while held.count < expected, MonotonicClock.now() < deadline, let event = try connection.nextEvent(timeout: .seconds(1)) {
            guard case .delivery(let delivery) = event else { break }
            hold(delivery)
        }
        // Taking no more; what the broker sent before the cancel is held too.
        try connection.cancel(consumerTag: consumer)
        while let event = try connection.nextEvent(timeout: .zero) {
            if case .delivery(let delivery) = event { hold(delivery) }
        }
    }

    /// Holds a delivery: whole while the bodies kept stay within `byteBudget`, else its start only.
    private func hold(_ delivery: Delivery) {
        lastID += 1
        var row = DeadLetterRow(delivery)
        row.tag = lastID
        var kept = delivery
        let whole = keptBytes + delivery.body.count <= Self.byteBudget
        if whole {
            keptBytes += delivery.body.count
        } else {
            kept.body = Array(delivery.body.prefix(Self.keptPrefix))
            contents.cutItems += 1
        }
        held.append((lastID, kept, whole, row))
    }

    /// `r`: a confirmed copy in the work queue, then the held original is acknowledged. `id` is
    /// the row's (see `held`).
    private func move(_ id: UInt64) {
        guard let connection, let index = held.firstIndex(where: { $0.id == id }) else {
            contents.note = DeadLetterNote("that item is not held any more: press u to browse again", isError: true)
            return
        }
        guard !refusedForAlarm() else { return }
        guard let heldSince, MonotonicClock.now() - heldSince < Self.stale else {
            return browse(note: DeadLetterNote("held for long (the broker's consumer_timeout is near): browsed again; nothing moved", isError: true))
        }
        guard held[index].whole else {
            contents.note = DeadLetterNote(
                "this item is held cut short (the view keeps \(Self.byteBudget >> 20) MiB of items whole): R moves all, or use loader --from-failed; nothing moved",
                isError: true)
            return
        }
        let delivery = held[index].delivery
        do {
            // The session's alarm probe may not know yet: the view's own connection is asked too.
            try connection.readAvailable()
            if let reason = connection.blockedReason {
                contents.note = DeadLetterNote("the broker blocks publishing (\(reason)): nothing moved; try again once it resumes", isError: true)
                return
            }
            // The items moved one by one go to the shards in turn.
            try FailedItemMover.publishFreshCopy(of: delivery, to: topology, shard: moved, on: connection)
            // The screen waits for the confirm: not through a whole alarm.
            try connection.waitForConfirms(blockedLimit: Self.blockedLimit)
            try connection.ack(delivery.tag)
            held.remove(at: index)
            contents.rows.removeAll { $0.tag == id }
            moved += 1
            events.update(confirmed: moved, now: MonotonicClock.now(), on: connection, final: true)
            contents.note = DeadLetterNote("moved 1 item back to \(topology.shardQueue(moved - 1)): \(DeadLetterRow(delivery).item)")
        } catch {
            lost(error, doing: "moving an item back to \(topology.shardQueue(moved))")
        }
    }

    /// `R` then `y`: gives back what is held, then moves everything as `loader --from-failed` does.
    private func moveAll() {
        guard !refusedForAlarm() else { return }
        let expected = contents.total
        close()
        var note: DeadLetterNote
        do {
            let connection = try AMQPConnection(settings: settings)
            defer { connection.close() }
            try waitForReturned(expected, on: connection)
            var eventsOff: String?
            let mover = FailedItemMover(settings: settings, log: log, progressExchange: progressExchange)
            let count = try mover.moveAll(on: connection, blockedLimit: Self.blockedLimit) { eventsOff = log.describe($0) }
            note = DeadLetterNote("moved \(NumberFormat.count(count ?? 0)) items back to \(topology.workQueuesText)" + (eventsOff.map { " (load events are off: \($0))" } ?? ""))
        } catch {
            note = DeadLetterNote(
                "could not move them all (\((error as? WorkQueueError).map(log.describe) ?? "\(error)")); every item not moved is still in \(topology.deadLetterQueue)", isError: true)
        }
        browse(note: note)
    }

    /// The broker requeues what was held as it closes that connection: waits (at most 3 s) until
    /// the queue holds `expected` ready again.
    private func waitForReturned(_ expected: Int, on connection: AMQPConnection) throws(WorkQueueError) {
        let deadline = MonotonicClock.now() + .seconds(3)
        while try (connection.inspectQueue(topology.deadLetterQueue)?.ready ?? 0) < expected, MonotonicClock.now() < deadline {
            Sleep.for(.milliseconds(50))
        }
    }

    /// True (and said) while a resource alarm blocks publishing.
    private func refusedForAlarm() -> Bool {
        guard let alarm = brokerAlarm else { return false }
        contents.note = DeadLetterNote("the broker blocks publishing (\(alarm)): nothing moved; try again once it resumes", isError: true)
        return true
    }

    /// A failure: the connection goes, and with it everything held goes back to the broker.
    private func lost(_ error: WorkQueueError, doing what: String) {
        close()
        contents.waiting = 0
        contents.note = DeadLetterNote(
            "\(what) failed: \(log.describe(error)); nothing was lost (what was held is back in \(topology.deadLetterQueue)): u browses again",
            isError: true)
    }
}
