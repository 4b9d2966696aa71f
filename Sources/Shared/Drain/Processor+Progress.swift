import Core
import Platform
import ProcessRunner
extension Processor {
    /// What the progress events call this processor's state now.
    var progressState: ProcessorState {
        if stop.isRequested { return .stopping }
        if itemsInHand > 0 { return .working }
        if intake.consumerTag == nil { return .waitingForOthers }
        // Between two items the processor holds nothing for a moment: still working.
        return clock.now() - intake.lastActivity < Intake.idleCheckDelay && stats.processed > 0 ? .working : .idle
    }

    /// Items delivered and not yet settled.
    var itemsInHand: Int { intake.waiting.count + slots.count + moves.count }

    /// Sends a progress event when one is due. A lost connection surfaces at the next AMQP call.
    func reportProgress(now: Instant, state: ProcessorState? = nil, force: Bool = false, exitCode: Int32? = nil) {
        let state = state ?? (exitCode == nil ? progressState : .finished)
        var lists: RepeatNotes.EventLists?
        let sent = try? progress.update(
            state: state, stats: stats, inHand: itemsInHand, now: now, on: publisher, force: force, exitCode: exitCode,
            consumerTimeout: timeouts.timeout,
            notes: {
                lists = self.notes.forEvent(now: now)
                return lists
            },
            current: {
                guard state == .working else { return nil }
                if let oldest = self.slots.oldest { return (ItemLabel.short(oldest.delivery.body, limit: 40), now - oldest.startedAt) }
                return self.slots.lastItem.map { (ItemLabel.short($0, limit: 40), nil) }
            })
        if sent == true, let lists { notes.sent(lists) }
    }

    /// Notes a delivery for the repeat notes: one the broker returned, and the parent of a copy.
    func noteDelivered(_ delivery: Delivery) {
        guard progress.isOn else { return }
        let returned = ItemKey.wasReturned(delivery)
        let parent = ItemKey.parent(of: delivery)
        guard returned || parent != nil else { return }
        notes.delivered(key: returned ? ItemKey.of(delivery) : 0, returned: returned, parent: parent, now: clock.now())
    }

    /// Makes a synchronous call on the consuming channel (a basic.qos with the same prefetch)
    /// when acknowledgements wait for one (or `force` and any do): the broker handles a channel's
    /// frames in order, so once it answers, it has every acknowledgement written before, and
    /// those messages can no longer come back. Then the events stop naming them.
    func syncAcks(force: Bool = false) throws {
        guard notes.needsSync || (force && notes.hasUnsynced), let connection else { return }
        try connection.setPrefetch(config.prefetch)
        notes.synced()
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
