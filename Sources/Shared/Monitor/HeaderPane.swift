/// The top of the pods' screen: the title, the queue's counts, the rates and the one line that
/// says what matters most now.
struct HeaderPane: ScreenPane {
    /// The lines it draws.
    static let rows = 4

    var snapshot: MonitorSnapshot
    var view: ViewState

    func draw(in region: ScreenRegion) -> [StyledLine] {
        let s = snapshot, width = region.width
        var lines: [StyledLine] = []
        let stateText = s.finished ? "finished" : s.state.rawValue
        let right = " \(stateText)  elapsed \(NumberFormat.duration(s.elapsed)) "
        let left = " wqtop  \(s.queue) @ \(s.endpoint)"
        var title = StyledLine()
        title.append(TextWidth.pad(left, to: max(0, width - TextWidth.of(right))), .title, limit: width)
        title.append(right, .title, limit: width)
        lines.append(title)

        var counts = StyledLine()
        field(&counts, "Ready", NumberFormat.count(s.ready), .bold, width: width)
        field(&counts, "In flight", NumberFormat.count(s.inFlight), .bold, width: width)
        field(&counts, "Consumers", NumberFormat.count(s.consumers), s.consumers == 0 && s.ready > 0 ? .warning : .bold, width: width)
        field(&counts, "Processed", NumberFormat.count(s.processed), .good, width: width)
        lines.append(counts)

        var rates = StyledLine()
        field(&rates, "Failed", NumberFormat.count(s.failed), s.failed > 0 ? .warning : .bold, width: width)
        field(&rates, "Dead-lettered", NumberFormat.count(s.deadLettered), s.deadLettered > 0 ? .bad : .bold, width: width)
        if s.finished {
            field(&rates, "Average", "\(NumberFormat.rate(s.elapsed > 0 ? Double(s.processed) / s.elapsed : 0))/s", .accent, width: width)
        } else {
            field(&rates, "Rate", "\(NumberFormat.rate(s.rateNow))/s", .accent, width: width)
            field(&rates, "1 min", "\(NumberFormat.rate(s.rateMinute))/s", .plain, width: width)
        }
        field(&rates, "ETA", s.finished || s.state == .drained ? "done" : NumberFormat.duration(s.eta), .bold, width: width)
        lines.append(rates)
        lines.append(banner(width: width))
        return lines
    }

    private func field(_ line: inout StyledLine, _ label: String, _ value: String, _ style: TextStyle, width: Int) {
        line.append(" \(label) ", .dim, limit: width)
        line.append(value, style, limit: width)
        line.append("  ", .plain, limit: width)
    }

    /// The one line that says what matters most now.
    private func banner(width: Int) -> StyledLine {
        let s = snapshot
        var line = StyledLine()
        if let problem = s.connectionProblem {
            line.append(" reconnecting... \(problem)", .bad, limit: width)
        } else if let alarm = s.brokerAlarm {
            line.append(" Broker alarm: publishing blocked (\(alarm)); processors go on draining, retries and events wait", .bad, limit: width)
        } else if let why = s.eventsOff {
            line.append(" No progress events, queue counts only (a permission is missing: docs/permissions.md): \(why)", .warning, limit: width)
        } else if let mismatch = s.shardMismatch {
            line.append(" \(mismatch)", .bad, limit: width)
        } else if s.finished {
            let failedExits = s.pods.filter { !$0.lost && $0.exitCode != nil && $0.exitCode != 0 }.count
            let lost = s.lostPods
            var text = " Job finished: \(NumberFormat.count(s.processed)) processed"
            if !s.pods.isEmpty {
                text += "; \(s.finishedPods) of \(s.pods.count) pods exited"
                text += failedExits == 0 ? " 0" : " (\(failedExits) with an error)"
                if lost > 0 { text += ", \(lost) lost" }
            }
            if s.deadLettered > 0 { text += "; \(s.deadLettered) dead-lettered in \(s.queue).failed" }
            line.append(text, failedExits > 0 || s.deadLettered > 0 || lost > 0 ? .bad : .good, limit: width)
        } else if s.state == .queueMissing {
            let missing = s.missingShards
            let what = missing.isEmpty ? "The queue '\(s.queue)' does not" : missing.count == 1 ? "The shard '\(missing[0])' does not" : "\(missing.count) shards (\(missing[0]), ...) do not"
            line.append(" \(what) exist (yet): waiting for a loader to declare it.", .warning, limit: width)
        } else if s.state == .stalled {
            let why = s.consumers == 0 ? "no consumers" : "no pod is working"
            line.append(" Stalled: \(NumberFormat.count(s.ready)) ready, \(why).", .bad, limit: width)
        } else if view.paused {
            line.append(" Paused: the screen is frozen, sampling goes on. Press p to resume.", .warning, limit: width)
        } else if s.state == .drained {
            let live = s.pods.filter(\.live).count
            line.append(" Queue drained; waiting for \(live) pod\(live == 1 ? "" : "s") to finish.", .accent, limit: width)
        }
        return line
    }
}
