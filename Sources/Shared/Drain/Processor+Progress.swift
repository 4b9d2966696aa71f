import Core
import Platform
import ProcessRunner
extension Processor: SettlementReports {
    /// What the progress events call this processor's state now.
    var progressState: ProcessorState {
        if stop.isRequested { return .stopping }
        if itemsInHand > 0 { return .working }
        if !intake.isConsuming { return .waitingForOthers }
        // Between two items the processor holds nothing for a moment: still working.
        return clock.now() - intake.lastActivity < Intake.idleCheckDelay && settlement.stats.processed > 0 ? .working : .idle
    }

    /// Items delivered and not yet settled.
    var itemsInHand: Int { intake.waiting.count + slots.count + settlement.copiesInFlight }

    /// Declares the events' exchange on a new publishing connection; said once when it cannot be.
    func prepareEvents(on publisher: any WorkBroker) {
        if let error = progress.prepare(on: publisher) {
            log.always("progress events are off on this connection: \(log.describe(error))")
        }
    }

    /// Sends a progress event when one is due. A lost connection surfaces at the next AMQP call.
    func reportProgress(now: Instant, state: ProcessorState? = nil, force: Bool = false, exitCode: Int32? = nil) {
        let state = state ?? (exitCode == nil ? progressState : .finished)
        var lists: RepeatNotes.EventLists?
        let sent = try? progress.update(
            state: state, stats: settlement.stats, inHand: itemsInHand, now: now, on: publisher, force: force, exitCode: exitCode,
            consumerTimeout: timeouts.timeout,
            notes: {
                lists = self.settlement.notesForEvent(now: now)
                return lists
            },
            current: {
                guard state == .working else { return nil }
                if let oldest = self.slots.oldest { return (ItemLabel.short(oldest.delivery.body, limit: 40), now - oldest.startedAt) }
                return self.slots.lastItem.map { (ItemLabel.short($0, limit: 40), nil) }
            })
        if sent == true, let lists { settlement.eventSent(lists) }
    }

    /// Sends a failure event for a failed attempt (see `ProgressPublisher.failed`).
    func reportFailure(_ label: String, attempt: Int, outcome: FailureEvent.Outcome, reason: String, exit: ChildExit?) {
        progress.failed(
            item: label, attempt: attempt, maxAttempts: config.maxAttempts, outcome: outcome, reason: reason,
            exitStatus: exit.map { Int(clamping: $0.statusNumber) }, now: clock.now(), on: publisher)
    }

    /// Writes an event with the counts now, before the acknowledgements they count. Skipped,
    /// like every event, while the broker blocks publishing (a resource alarm) or with
    /// --no-progress; a lost publishing connection surfaces at its next call.
    func reportCounts() {
        reportProgress(now: clock.now(), force: true)
    }
}
