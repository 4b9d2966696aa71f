import Core
import Platform
import AMQPClient
import QueueActions
/// Publishes items as persistent messages with publisher confirms, keeping a window of
/// unconfirmed items so that a lost connection re-publishes them (duplicates possible, no loss).
package final class Loader {
    package let config: LoaderConfiguration
    private let log: Log
    private let progress: LoadProgress
    private var connection: AMQPConnection?
    /// Items published on the current channel and not yet confirmed, oldest first.
    private var unconfirmed: [(number: Int, item: [UInt8])] = []
    /// Items published so far: each message's id is the load's id and its number, so the receipt
    /// can tell two items with the same bytes apart (a re-publish keeps its id).
    private var numbered = 0
    /// The confirm tag of `unconfirmed[0]`, minus one.
    private var unconfirmedBase: UInt64 = 0
    private var confirmedTotal = 0
    /// Unconfirmed items allowed before waiting; the broker coalesces confirms for the window.
    private let window: UInt64 = 2048
    /// Bytes of unconfirmed items allowed before waiting, so that large items (1 MB each) do not
    /// pile up 2,048 deep in memory: the loader's memory stays flat in the item count and size.
    private let windowBytes = 32 << 20
    private var unconfirmedBytes = 0
    /// The broker address to try first on the next connect (the one after the last lost).
    private var nextAddress: Int
    /// Why the broker blocks publishing, while it does (connection.blocked).
    private var blockedBy: String?
    private var events: LoadEventPublisher
    /// The work queues, in the order items are spread over them.
    private let shardNames: [String]

    package init(config: LoaderConfiguration, log: Log) {
        self.config = config
        self.log = log
        self.nextAddress = config.connection.startAddress
        self.progress = LoadProgress(log: log, knownTotal: config.source.knownCount)
        self.shardNames = Topology(config.connection).workQueues
        self.events = LoadEventPublisher(
            exchange: config.progressExchange, queue: config.connection.queue, total: config.source.knownCount)
    }

    /// Loads every item; returns how many the broker confirmed.
    package func run() throws -> Int {
        let started = MonotonicClock.now()
        try connect(firstTime: true)
        var items = try config.source.makeIterator()
        var published = 0
        // Before waiting for input, what is queued goes out: a slow producer's items reach the queue.
        while let item = try items.next(beforeWaiting: { try withReconnect { try self.connection?.writeQueuedPublishes() } }) {
            try withReconnect { try self.publish(item) }
            try withReconnect { try self.settleIfWindowFull(published: published) }
            published += 1
            progress.published(item: item, count: published, confirmed: confirmedTotal)
            if published % 256 == 0 { events.update(confirmed: confirmedTotal, now: MonotonicClock.now(), on: connection) }
        }
        try withReconnect { try self.settle(untilOutstanding: 0) }
        events.update(confirmed: confirmedTotal, now: MonotonicClock.now(), on: connection, final: true)
        connection?.close()
        let elapsed = MonotonicClock.now() - started
        progress.finish()
        log.info("loaded data")
        log.always("loaded \(confirmedTotal) items in \(Format.seconds(elapsed)) s (\(Format.rate(confirmedTotal, elapsed)) items/s)")
        return confirmedTotal
    }

    private func connect(firstTime: Bool) throws {
        let s = config.connection
        guard firstTime else { return try open() }
        log.info("connecting to work queue \(s.firstAddress.host) \(s.firstAddress.port)")
        try retryWhileUnreachable(within: s.connectTimeout, retrying: log.unreachable) { try open() }
        log.info("connected to work queue at \(connection?.whereConnected ?? s.endpoint)")
    }

    /// One connection, declared and in confirm mode, to the next broker address first.
    private func open() throws {
        let connection = try AMQPConnection(settings: config.connection, firstAddress: nextAddress)
        nextAddress = connection.addressIndex
        do {
            try Topology(config.connection).declare(using: connection.declareQueue, orFind: connection.inspectQueue)
            try connection.enableConfirms()
        } catch {
            connection.abandon()
            throw error
        }
        if let error = events.prepare(on: connection) {
            log.always("load events are off on this connection: \(log.describe(error))")
        }
        self.connection = connection
    }

    /// Publishes a new item and remembers it until it is confirmed.
    private func publish(_ item: [UInt8]) throws {
        numbered += 1
        try send(item, number: numbered)
        unconfirmed.append((numbered, item))
        unconfirmedBytes += item.count
    }

    /// Item `number` goes to shard `number - 1` modulo the shard count (round-robin; a
    /// re-publish after a reconnect goes to the same shard), to the work queue with one shard.
    private func send(_ item: [UInt8], number: Int) throws {
        guard let connection else { throw WorkQueueError(.connectionLost, "not connected") }
        let id = "\(events.loadID)-\(number)"
        let queue = shardNames[(number - 1) % shardNames.count]
        try item.withUnsafeBytes { try connection.publishQueued(routingKey: queue, body: $0, messageID: id) }
    }

    /// Waits for confirms when the window is full, or at once when the broker began to block
    /// publishing (looked for every 256 items: publishes into a blocked connection would go on
    /// silently until the kernel's buffers are full).
    private func settleIfWindowFull(published: Int) throws {
        guard let connection else { throw WorkQueueError(.connectionLost, "not connected") }
        if published % 256 == 0 { try connection.readAvailable() }
        if connection.blockedReason != nil {
            try settle(untilOutstanding: 0)
        } else if connection.confirmTracker.outstanding >= window || unconfirmedBytes >= windowBytes {
            try settle(untilOutstanding: min(window, connection.confirmTracker.outstanding) / 2)
        }
    }

    /// Waits for confirms and forgets confirmed items; says so while the broker blocks publishing.
    private func settle(untilOutstanding limit: UInt64) throws {
        guard let connection else { throw WorkQueueError(.connectionLost, "not connected") }
        try connection.waitForConfirms(untilOutstanding: limit) { reason in
            if self.blockedBy == nil {
                self.progress.interrupt()
                self.log.always("the broker blocks publishing (connection.blocked: \(reason)); waiting for it to resume, nothing is lost")
            }
            self.blockedBy = reason
            self.progress.blocked(reason, confirmed: self.confirmedTotal)
        }
        if let reason = blockedBy, connection.blockedReason == nil {
            progress.interrupt()
            log.always("the broker accepts publishing again (it blocked for: \(reason))")
            blockedBy = nil
        }
        let through = connection.confirmTracker.confirmedThrough
        let done = Int(through - unconfirmedBase)
        if done > 0 {
            unconfirmedBytes -= unconfirmed.prefix(done).reduce(0) { $0 + $1.item.count }
            unconfirmed.removeFirst(done)
            unconfirmedBase = through
            confirmedTotal += done
        }
    }

    /// Runs `body`; when the connection is lost, reconnects with backoff and re-publishes
    /// every unconfirmed item before trying `body` again.
    private func withReconnect(_ body: () throws -> Void) throws {
        var backoff: Backoff?
        while true {
            do {
                return try body()
            } catch let error as WorkQueueError where error.kind == .connectionLost {
                if let lost = connection { nextAddress = lost.nextAddressIndex }
                connection?.abandon()
                connection = nil
                if backoff == nil { backoff = Backoff(limit: config.reconnectTimeout, now: MonotonicClock.now()) }
                try reconnect(after: error, backoff: &backoff!)
            }
        }
    }

    private func reconnect(after error: WorkQueueError, backoff: inout Backoff) throws {
        var lastError = error
        while true {
            guard let delay = backoff.nextDelay(now: MonotonicClock.now()) else {
                throw lastError.appending(
                    "; gave up after \(Int(config.reconnectTimeout.inSeconds)) s; \(confirmedTotal) items were confirmed", kind: .failure)
            }
            log.always("connection lost (\(log.describe(lastError))); reconnecting in \(Format.seconds(delay)) s (attempt \(backoff.attempt))")
            Sleep.for(delay)
            do {
                try connect(firstTime: false)
                // Tags start again at 1 on the new channel: unconfirmed[i] is sent as tag i+1.
                unconfirmedBase = 0
                log.always("reconnected; publishing \(unconfirmed.count) unconfirmed items again")
                for (number, item) in unconfirmed { try send(item, number: number) }
                return
            } catch let error as WorkQueueError where error.kind == .connectionLost || error.kind == .unavailable {
                connection?.abandon()
                connection = nil
                lastError = error
            }
        }
    }
}
