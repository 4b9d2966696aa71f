import Core

extension Processor {
    /// Ends every command and `--stdio` worker, on every way out (see `WorkSlots.endAll`):
    /// results that arrive now are not acknowledged, so the broker returns those items.
    func endAllWork(until deadline: Instant) {
        slots.endAll(until: deadline, clock: clock, log: log)
    }
}
