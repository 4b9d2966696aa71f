import Core
import Platform
import AMQPClient
import ProcessRunner

/// What the settlement tells the loop to publish: the events it writes on the publishing
/// connection (the loop owns the `ProgressPublisher` and knows what the processor holds).
protocol SettlementReports: AnyObject {
    /// Writes an event with the counts now, before the acknowledgements they count.
    func reportCounts()
    /// Sends a failure event for a failed attempt (see `ProgressPublisher.failed`).
    func reportFailure(_ label: String, attempt: Int, outcome: FailureEvent.Outcome, reason: String, exit: ChildExit?)
}

extension Settlement {
    /// Acknowledges, retries, dead-letters or returns an item whose work ended. An item of a lost
    /// connection is only logged: the broker has already requeued it.
    func settle(_ item: RunningItem, _ result: WorkResult, _ links: BrokerLinks) throws {
        var returned = false
        if case .returned = result { returned = true }
        workEnded(after: clock.now() - item.startedAt, returned: returned)
        guard item.generation == links.generation, links.consume != nil else {
            log.always("item \(item.label) ended after the connection it came on was lost; the broker has already requeued it")
            return
        }
        switch result {
        case .succeeded:
            try succeeded(item.delivery, links)
        case .returned:
            try returnToQueue([(item.delivery, item.attempt)], links)
            let how = item.killedFor == .stop ? "was killed after the \(Format.seconds(config.grace)) s grace period" : "ended on the stop signal"
            log.always("item \(item.label) returned to the queue: its work \(how)")
        case .failed(let reason, let exit, let final):
            try fail(item, reason: reason, exit: exit, final: final, links)
        }
    }

    /// A failed attempt: publish the item again with the next attempt number, or move it to the
    /// dead-letter queue.
    private func fail(_ item: RunningItem, reason: String, exit: ChildExit?, final: Bool, _ links: BrokerLinks) throws {
        attemptFailed()
        switch final ? .deadLetter(attempts: item.attempt) : policy.outcome(afterFailedAttempt: item.attempt) {
        case .retry(let next):
            try move(item.delivery, to: topology.home(of: item.delivery),
                headers: [(FailurePolicy.attemptsHeader, .int(Int64(next))), ("x-last-failure", .string(reason))], count: .retried, links)
            log.always("item \(item.label) failed (\(reason)); attempt \(item.attempt) of \(config.maxAttempts), queued again")
            reports?.reportFailure(item.label, attempt: item.attempt, outcome: .retry, reason: reason, exit: exit)
        case .deadLetter(let attempts):
            try deadLetter(item, reason: reason, exit: exit, attempts: final ? nil : attempts, links)
        }
    }

    /// Moves an item to `QUEUE.failed` with why; `attempts` is said in the log when it matters.
    func deadLetter(_ item: RunningItem, reason: String, exit: ChildExit?, attempts: Int?, _ links: BrokerLinks) throws {
        var headers: [(String, HeaderValue)] = [
            (FailurePolicy.attemptsHeader, .int(Int64(item.attempt))),
            ("x-failure-reason", .string(reason)),
            ("x-failed-by", .string(config.podName)),
            (FailurePolicy.failedAtHeader, .int(Int64(WallClock.now()))),
        ]
        if let exit { headers.append(("x-exit-status", .int(exit.statusNumber))) }
        try move([(item.delivery, headers)], to: topology.deadLetterQueue, count: .deadLettered, links)
        let tries = attempts.map { " after \($0) attempts" } ?? ""
        log.always("item \(item.label) failed (\(reason))\(tries); moved to \(topology.deadLetterQueue)")
        reports?.reportFailure(item.label, attempt: item.attempt, outcome: .deadLetter, reason: reason, exit: exit)
    }

    /// A classic queue said only `redelivered`: the processor holding this item died. Publish
    /// it again with that death counted in `x-attempts`; the copy is worked on when it comes.
    /// `reason` says why it came back (a dead processor, or the broker's consumer_timeout, which
    /// `timedOut` says this processor saw take it back).
    func restamp(_ delivery: Delivery, attempt: Int, reason: String, timedOut: Bool, _ links: BrokerLinks) throws {
        try move(delivery, to: topology.home(of: delivery),
            headers: [(FailurePolicy.attemptsHeader, .int(Int64(attempt))), ("x-last-failure", .string(reason))], links)
        let label = ItemLabel.short(delivery.body)
        let why = timedOut ? "the broker's consumer_timeout took it back" : "its processor died while working on it"
        log.always("item \(label): \(why); attempt \(attempt - 1) of \(config.maxAttempts) spent, queued again")
        reports?.reportFailure(label, attempt: max(1, attempt - 1), outcome: .retry, reason: reason, exit: nil)
    }

    /// Returns items to the work queue (each to the shard it came from) without spending an
    /// attempt: copies that carry their attempt number (and arrive without `redelivered`, so
    /// nobody counts a death), then the originals are acknowledged. A `basic.reject` would mark
    /// them redelivered.
    func returnToQueue(_ items: [(delivery: Delivery, attempt: Int)], _ links: BrokerLinks) throws {
        let topology = topology
        for queue in topology.workQueues {
            let home = items.filter { topology.home(of: $0.delivery) == queue }
            guard !home.isEmpty else { continue }
            try move(
                home.map { ($0.delivery, [(FailurePolicy.attemptsHeader, HeaderValue.int(Int64($0.attempt)))]) }, to: queue, links)
        }
    }

    private func move(
        _ delivery: Delivery, to queue: String, headers: [(String, HeaderValue)], count: PendingMoves.Count = .none,
        _ links: BrokerLinks
    ) throws {
        try move([(delivery, headers)], to: queue, count: count, links)
    }
}
