import Core

extension Processor {
    /// Ends every command and `--stdio` worker, on every way out (see `WorkSlots.endAll`):
    /// results that arrive now are not acknowledged, so the broker returns those items.
    func endAllWork(until deadline: Instant) {
        slots.endAll(until: deadline, clock: clock, log: log)
    }

    /// Stops while disconnected: running work gets the grace period, then is killed.
    func stopWithoutConnection() {
        _ = stop.begin(now: clock.now(), grace: config.grace)
        endAllWork(until: stop.graceDeadline ?? clock.now())
    }
}
