import Core
extension Processor {
    /// What the progress events call this processor's state now.
    var progressState: ProcessorState {
        if stop.isRequested { return .stopping }
        if itemsInHand > 0 { return .working }
        if intake.consumerTag == nil { return .waitingForOthers }
        // Between two items the processor holds nothing for a moment: still working.
        return MonotonicClock.now() - intake.lastActivity < Intake.idleCheckDelay && stats.processed > 0 ? .working : .idle
    }

    /// Items delivered and not yet settled.
    var itemsInHand: Int { intake.waiting.count + slots.count + moves.count }

    /// Sends a progress event when one is due. A lost connection surfaces at the next AMQP call.
    func reportProgress(now: Double, state: ProcessorState? = nil, force: Bool = false, exitCode: Int32? = nil) {
        let state = state ?? (exitCode == nil ? progressState : .finished)
        try? progress.update(
            state: state, stats: stats, inHand: itemsInHand, now: now, on: publisher, force: force, exitCode: exitCode,
            current: { state == .working ? self.slots.lastItem.map { ItemLabel.short($0, limit: 40) } : nil })
    }

    /// Writes an event with the counts now, before the acknowledgements they count. Skipped,
    /// like every event, while the broker blocks publishing (a resource alarm) or with
    /// --no-progress; a lost publishing connection surfaces at its next call.
    func reportCounts() {
        reportProgress(now: MonotonicClock.now(), force: true)
    }
}
