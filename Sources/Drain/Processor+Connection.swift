#if canImport(Glibc)
import Glibc
#endif
import Core
import AMQPClient

extension Processor {
    /// Connects twice (one connection consumes and acknowledges, the other publishes, so that a
    /// resource alarm, which blocks connections that publish, never stops the work), declares the
    /// topology and starts consuming.
    func connect() throws {
        var settings = config.connection
        settings.clientName = "processor \(config.podName) (consume)"
        let connection = try AMQPConnection(settings: settings, firstAddress: nextAddress)
        nextAddress = connection.addressIndex
        self.connection = connection
        try topology.declare(using: connection.declareQueue)
        try connection.setPrefetch(config.prefetch)
        settings.clientName = "processor \(config.podName) (publish)"
        let publisher = try AMQPConnection(settings: settings, firstAddress: connection.addressIndex)
        self.publisher = publisher
        try publisher.enableConfirms()
        if let warning = progress.prepare(on: publisher) { log.always(warning) }
        if generation == 0 { reportProgress(now: MonotonicClock.now(), state: .starting, force: true) }
        if stopSignal == nil {
            consumerTag = try connection.consume(queue: topology.queue)
            lastActivity = MonotonicClock.now()
        }
    }

    /// Reconnects with backoff after the connection was lost. Items that were delivered on the
    /// old connection are requeued by the broker; a command still running finishes, but its
    /// result is not acknowledged. Returns false when a stop signal ended the wait.
    func reconnect(after error: WorkQueueError) throws -> Bool {
        if let lost = connection { nextAddress = lost.nextAddressIndex }
        dropConnections()
        consumerTag = nil
        // The originals of copies on their way are back in the queue with the old connection.
        moves.removeAll()
        publishingBlockedFor = nil
        waiting.removeAll()
        // Finished but unacknowledged items go back to the queue with the connection: not done.
        acks.reset()
        generation += 1
        var backoff = Backoff(limit: config.reconnectTimeout)
        var lastError = error
        while true {
            guard let delay = backoff.nextDelay() else {
                throw lastError.appending(
                    "; gave up after \(Int(config.reconnectTimeout)) s; \(stats.processed) items were processed", kind: .failure)
            }
            log.always("connection lost (\(lastError.message)); reconnecting in \(Format.seconds(delay)) s (attempt \(backoff.attempt))")
            if waitInterruptibly(delay) {
                stopWithoutConnection()
                return false
            }
            do {
                try connect()
                barrier.reset()
                log.always("reconnected to work queue \(connection?.endpoint ?? config.connection.endpoint)")
                return true
            } catch let error as WorkQueueError where error.kind == .connectionLost || error.kind == .unavailable {
                dropConnections()
                lastError = error
            }
        }
    }

    /// Sleeps up to `seconds` while reaping the command; true if a stop signal arrived.
    private func waitInterruptibly(_ seconds: Double) -> Bool {
        let until = MonotonicClock.now() + seconds
        while MonotonicClock.now() < until {
            var fds = [pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0)]
            let timeout = Int32(max(1, (until - MonotonicClock.now()) * 1000))
            _ = poll(&fds, 1, timeout)
            for sig in signals.drain() where sig == SIGTERM || sig == SIGINT {
                if stopSignal == nil { stopSignal = sig }
            }
            // Work that ends now cannot be acknowledged: `settle` logs and drops it.
            try? checkRunning()
            if stopSignal != nil { return true }
        }
        return false
    }

    /// Stops while disconnected: running work gets the grace period, then is killed.
    private func stopWithoutConnection() {
        let until = MonotonicClock.now() + config.grace
        endAllWork(until: until)
        graceDeadline = until
    }

    /// Forgets both connections without a goodbye (lost, or half made).
    func dropConnections() {
        connection?.abandon()
        connection = nil
        publisher?.abandon()
        publisher = nil
    }

    /// Closes both connections politely.
    func closeConnections() {
        publisher?.close()
        connection?.close()
    }
}
