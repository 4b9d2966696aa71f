#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import AMQPClient

extension Processor {
    /// Connects twice (one connection consumes and acknowledges, the other publishes, so that a
    /// resource alarm, which blocks connections that publish, never stops the work), declares the
    /// topology and starts consuming.
    func connect() throws {
        try links.open(config.connection, podName: config.podName)
        guard let connection, let publisher else { return }
        try topology.declare(using: connection.declareQueue, orFind: connection.inspectQueue)
        intake.brokerVersion(connection.serverVersion)
        try connection.setPrefetch(config.prefetchPerShard)
        prepareEvents(on: publisher)
        if links.generation == 0 { reportProgress(now: clock.now(), state: .starting, force: true) }
        if !stop.isRequested { try consumeEveryShard(on: connection, now: clock.now()) }
    }

    /// Registers a consumer on every work queue, all on the one work channel (one loop, one
    /// stream of deliveries, acknowledgements by the channel's delivery tags).
    func consumeEveryShard(on connection: any WorkBroker, now: Instant) throws {
        for queue in topology.workQueues {
            intake.consuming(tag: try connection.consume(queue: queue), on: queue, now: now)
        }
    }

    /// Cancels every consumer on the work queues. Deliveries sent before still arrive.
    func cancelEveryConsumer(on connection: any WorkBroker) throws {
        for tag in intake.consumerTags.keys { try connection.cancel(consumerTag: tag) }
    }

    /// Reconnects with backoff after the connection was lost. Items that were delivered on the
    /// old connection are requeued by the broker; a command still running finishes, but its
    /// result is not acknowledged (after the broker's consumer_timeout closed the channel it is
    /// killed instead: see `brokerTimedOut`). Returns false when a stop signal ended the wait.
    func reconnect(after error: WorkQueueError) throws -> Bool {
        if case .consumerTimeout(let value) = error.cause { brokerTimedOut(value) }
        links.lost()
        intake.reconnected()
        pulse.stopped()
        // Copies on their way and finished items not acknowledged are back in the queue.
        settlement.connectionLost()
        var backoff = Backoff(limit: config.reconnectTimeout, now: clock.now())
        var lastError = error
        while true {
            guard let delay = backoff.nextDelay(now: clock.now()) else {
                throw lastError.appending(
                    "; gave up after \(Int(config.reconnectTimeout.inSeconds)) s; \(settlement.stats.processed) items were processed", kind: .failure)
            }
            log.always("connection lost (\(log.describe(lastError))); reconnecting in \(Format.seconds(delay)) s (attempt \(backoff.attempt))")
            if waitInterruptibly(delay) {
                stopWithoutConnection()
                return false
            }
            do {
                try connect()
                log.always("reconnected to work queue \(connection?.endpoint ?? config.connection.endpoint)")
                return true
            } catch let error as WorkQueueError where error.kind == .connectionLost || error.kind == .unavailable {
                dropConnections()
                lastError = error
            }
        }
    }

    /// Sleeps up to `duration` while reaping the command; true if a stop signal arrived.
    private func waitInterruptibly(_ duration: Duration) -> Bool {
        let until = clock.now() + duration
        while clock.now() < until {
            var fds = [pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0)]
            let timeout = Int32(max(1, clock.sleepBudget(until: until).roundedUpMilliseconds))
            _ = poll(&fds, 1, timeout)
            for sig in signals.drain() { note(sig) }
            // Work that ends now cannot be acknowledged: `settle` logs and drops it.
            try? checkRunning()
            if stop.isRequested { return true }
        }
        return false
    }

    /// Forgets both connections without a goodbye (lost, or half made).
    func dropConnections() { links.drop() }

    /// Closes both connections politely.
    func closeConnections() { links.close() }
}
