/// Turns a snapshot into screen lines: a pure function of the snapshot, the view and the size.
package struct Renderer: Sendable {
    package var width: Int
    package var height: Int

    package init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Rows per history graph: taller terminals get finer graphs.
    var graphRows: Int { height >= 36 ? 3 : height >= 30 ? 2 : 1 }

    /// Pod rows that fit on screen (for paging): all but the header, table heading and footer.
    package var podRows: Int { max(1, height - (5 + 2 * graphRows) - 2) }

    /// The full-screen frame: exactly `height` lines (fewer on a tiny terminal).
    package func frame(_ s: MonitorSnapshot, view: ViewState) -> [StyledLine] {
        guard width >= 40, height >= 10 else {
            var line = StyledLine()
            line.append("wqtop: \(s.state.rawValue), ready \(s.ready) (window too small)", .bold, limit: width)
            return [line]
        }
        if let dead = view.deadLetters, !view.showHelp { return Self.forTerminal(deadLetterFrame(s, dead), view) }
        var lines = header(s, view: view, graphRows: graphRows)
        let bodyRows = height - lines.count - 1
        if view.showHelp {
            lines += help(rows: bodyRows)
        } else {
            // The failures pane takes the room below the pods, when there is enough of it.
            let podLines = max(2, min(bodyRows, s.pods.count + 1))
            let paneRows = min(bodyRows - podLines - 1, s.failures.count + 1)
            if !s.failures.isEmpty && paneRows >= Self.failurePaneMinimum {
                lines += podTable(s, view: view, rows: bodyRows - paneRows - 1)
                lines.append(StyledLine())
                lines += failurePane(s, rows: paneRows)
            } else {
                lines += podTable(s, view: view, rows: bodyRows)
            }
            lines.append(footer(s, view: view))
        }
        if view.showHelp { lines.append(footer(s, view: view)) }
        while lines.count < height { lines.insert(StyledLine(), at: lines.count - 1) }
        return Self.forTerminal(Array(lines.prefix(height)), view)
    }

    /// A frame with every pod and no key hints, for `--once` and logs.
    package func report(_ s: MonitorSnapshot) -> [StyledLine] {
        var view = ViewState(unicode: false, color: false)
        view.sort = .pod
        var lines = header(s, view: view, graphRows: 1)
        lines += podTable(s, view: view, rows: s.pods.count + 1)
        lines.append(summary(s))
        return lines
    }

    // MARK: header

    private func header(_ s: MonitorSnapshot, view: ViewState, graphRows: Int) -> [StyledLine] {
        var lines: [StyledLine] = []
        let stateText = s.finished ? "finished" : s.state.rawValue
        let right = " \(stateText)  elapsed \(NumberFormat.duration(s.elapsed)) "
        let left = " wqtop  \(s.queue) @ \(s.endpoint)"
        var title = StyledLine()
        title.append(TextWidth.pad(left, to: max(0, width - TextWidth.of(right))), .title, limit: width)
        title.append(right, .title, limit: width)
        lines.append(title)

        var counts = StyledLine()
        field(&counts, "Ready", NumberFormat.count(s.ready), .bold)
        field(&counts, "In flight", NumberFormat.count(s.inFlight), .bold)
        field(&counts, "Consumers", NumberFormat.count(s.consumers), s.consumers == 0 && s.ready > 0 ? .warning : .bold)
        field(&counts, "Processed", NumberFormat.count(s.processed), .good)
        lines.append(counts)

        var rates = StyledLine()
        field(&rates, "Failed", NumberFormat.count(s.failed), s.failed > 0 ? .warning : .bold)
        field(&rates, "Dead-lettered", NumberFormat.count(s.deadLettered), s.deadLettered > 0 ? .bad : .bold)
        if s.finished {
            field(&rates, "Average", "\(NumberFormat.rate(s.elapsed > 0 ? Double(s.processed) / s.elapsed : 0))/s", .accent)
        } else {
            field(&rates, "Rate", "\(NumberFormat.rate(s.rateNow))/s", .accent)
            field(&rates, "1 min", "\(NumberFormat.rate(s.rateMinute))/s", .plain)
        }
        field(&rates, "ETA", s.finished || s.state == .drained ? "done" : NumberFormat.duration(s.eta), .bold)
        lines.append(rates)
        lines.append(banner(s, view: view))

        lines += graph("Depth", s.depthHistory.map(Double.init), rows: graphRows, view: view, style: .accent) {
            NumberFormat.count(Int($0))
        }
        lines += graph("Rate/s", s.rateHistory, rows: graphRows, view: view, style: .good) { NumberFormat.rate($0) }
        // The loads' progress bar, and progress messages dropped or cut: the line above the pods.
        var note = StyledLine()
        let bad = s.badEvents > 0 ? "bad events: \(NumberFormat.count(s.badEvents)) " : ""
        let times = itemTimes(s)
        let timesWidth = times.reduce(0) { $0 + TextWidth.of($1.0) }
        if s.loadedTotal != nil { progressBar(&note, s, view: view, room: width - TextWidth.of(bad) - timesWidth) }
        for (text, style) in times { note.append(text, style, limit: width) }
        if !bad.isEmpty {
            note.append(String(repeating: " ", count: max(0, width - note.width - TextWidth.of(bad))), .plain, limit: width)
            note.append(bad, .warning, limit: width)
        }
        lines.append(note)
        return lines
    }

    /// ` Done [#####.....] 1,234 / 5,000 (24.7%)`: done (processed and dead-lettered) of what the
    /// loaders confirmed, in at most `room` columns.
    private func progressBar(_ line: inout StyledLine, _ s: MonitorSnapshot, view: ViewState, room: Int) {
        guard let total = s.loadedTotal, let percent = s.percentDone else { return }
        let numbers = " \(NumberFormat.count(s.done)) / \(NumberFormat.count(total)) (\(NumberFormat.percent(percent)))"
        let cells = min(40, max(10, width / 4), max(0, room - 9 - TextWidth.of(numbers)))
        let filled = min(cells, Int((percent / 100 * Double(cells)).rounded(.down)))
        let (full, empty) = view.unicode ? ("█", "░") : ("#", ".")
        line.append(" Done ", .dim, limit: room)
        if cells > 0 {
            line.append("[", .plain, limit: room)
            line.append(String(repeating: full, count: filled), percent >= 100 ? .good : .accent, limit: room)
            line.append(String(repeating: empty, count: cells - filled), .dim, limit: room)
            line.append("]", .plain, limit: room)
        }
        line.append(numbers, .bold, limit: room)
    }

    /// ` items p50 12ms p95 1.3s  2 stragglers`: the Job's item durations, when any item finished.
    private func itemTimes(_ s: MonitorSnapshot) -> [(String, TextStyle)] {
        guard let durations = s.itemDurations else { return [] }
        var parts: [(String, TextStyle)] = [
            (" Items p50 ", .dim), (NumberFormat.itemTime(durations.percentile(0.5)), .bold),
            (" p95 ", .dim), (NumberFormat.itemTime(durations.percentile(0.95)), .bold),
        ]
        let stragglers = s.stragglers
        if stragglers > 0 { parts.append(("  \(stragglers) straggler\(stragglers == 1 ? "" : "s")", .bad)) }
        return parts
    }

    private func field(_ line: inout StyledLine, _ label: String, _ value: String, _ style: TextStyle) {
        line.append(" \(label) ", .dim, limit: width)
        line.append(value, style, limit: width)
        line.append("  ", .plain, limit: width)
    }

    /// The one line that says what matters most now.
    private func banner(_ s: MonitorSnapshot, view: ViewState) -> StyledLine {
        var line = StyledLine()
        if let problem = s.connectionProblem {
            line.append(" reconnecting... \(problem)", .bad, limit: width)
        } else if let alarm = s.brokerAlarm {
            line.append(" Broker alarm: publishing blocked (\(alarm)); processors go on draining, retries and events wait", .bad, limit: width)
        } else if let why = s.eventsOff {
            line.append(" No progress events, queue counts only (a permission is missing: docs/permissions.md): \(why)", .warning, limit: width)
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
            line.append(" The queue '\(s.queue)' does not exist (yet): waiting for a loader to declare it.", .warning, limit: width)
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

    /// A sparkline `rows` high over the last samples that fit, scaled to their maximum.
    private func graph(
        _ label: String, _ values: [Double], rows: Int, view: ViewState, style: TextStyle, format: (Double) -> String
    ) -> [StyledLine] {
        let labelWidth = 8
        let top = values.suffix(max(1, width - labelWidth - 12)).max() ?? 0
        let scale = " max \(format(top))"
        let plotWidth = max(1, width - labelWidth - max(12, TextWidth.of(scale)))
        let shown = Array(values.suffix(plotWidth))
        let blocks: [String] = view.unicode ? [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : [" ", ".", ".", ":", ":", "|", "|", "#", "#"]
        var lines: [StyledLine] = []
        for row in (0..<rows).reversed() {
            var text = ""
            for v in shown {
                let level = top > 0 ? Int((v / top * Double(8 * rows)).rounded(.up)) : 0
                text += blocks[min(8, max(0, level - 8 * row))]
            }
            var line = StyledLine()
            line.append(TextWidth.pad(row == rows - 1 ? " \(label)" : "", to: labelWidth), .dim, limit: width)
            line.append(TextWidth.pad(text, to: plotWidth, right: true), style, limit: width)
            if row == rows - 1 { line.append(scale, .dim, limit: width) }
            lines.append(line)
        }
        return lines
    }

    // MARK: pods

    private struct Columns {
        var pod: Int
        var current: Int
        /// The last-seen column, on terminals 100 columns wide or more (a silent pod shows "lost" anyway).
        var seen: Int
        static let state = 18, processed = 10, failed = 7, rate = 8, running = 7
        static let fixed = state + processed + failed + rate + running + 6
    }

    private func columns(_ pods: [PodRow]) -> Columns {
        let seen = width >= 100 ? 8 : 0
        let flexible = max(10, width - Columns.fixed - seen)
        let longest = pods.map { TextWidth.of($0.pod) }.max() ?? 3
        let pod = min(max(longest, 8), max(16, flexible / 2), 40)
        return Columns(pod: pod, current: max(0, flexible - pod), seen: seen)
    }

    /// The heading (with the range shown when not all fit) and the rows that fit.
    private func podTable(_ s: MonitorSnapshot, view: ViewState, rows: Int) -> [StyledLine] {
        let c = columns(s.pods)
        var heading = StyledLine()
        let sortMark: (ViewState.Sort) -> String = { view.sort == $0 && view.unicode ? "▼" : "" }
        let headingText =
            " " + TextWidth.pad("POD" + sortMark(.pod), to: c.pod) + " " + TextWidth.pad("STATE" + sortMark(.state), to: Columns.state)
            + " " + TextWidth.pad(sortMark(.processed) + "PROCESSED", to: Columns.processed, right: true)
            + " " + TextWidth.pad("FAILED", to: Columns.failed, right: true)
            + " " + TextWidth.pad(sortMark(.rate) + "RATE/s", to: Columns.rate, right: true)
            + (c.seen > 0 ? " " + TextWidth.pad(sortMark(.lastSeen) + "SEEN", to: c.seen - 1, right: true) : "")
            + " " + TextWidth.pad("RUNNING", to: Columns.running, right: true)
            + "  CURRENT"
        let ordered = view.sorted(s.pods)
        let visible = max(1, rows - 1)
        let first = min(view.scroll, max(0, ordered.count - visible))
        let range = ordered.count > visible ? "\(first + 1)-\(min(ordered.count, first + visible)) of \(ordered.count) " : ""
        heading.append(TextWidth.pad(headingText, to: max(0, width - TextWidth.of(range))), .heading, limit: width)
        heading.append(range, .heading, limit: width)
        guard !s.pods.isEmpty else {
            var none = StyledLine()
            none.append(
                s.consumers > 0
                    ? " \(s.consumers) consumer(s) on the queue send no progress events (started with --no-progress, or another tool)."
                    : " No processor has reported yet (they publish to the progress exchange once started).",
                .dim, limit: width)
            return [heading, none]
        }
        var lines = [heading]
        for pod in ordered.dropFirst(first).prefix(visible) {
            lines.append(row(pod, c, stragglerAfter: s.stragglerAfter))
        }
        return lines
    }

    private func row(_ p: PodRow, _ c: Columns, stragglerAfter: Double) -> StyledLine {
        var line = StyledLine()
        let (stateText, stateStyle) = stateLabel(p)
        let dim = p.lost || p.state == .finished
        line.append(" " + TextWidth.pad(p.pod, to: c.pod) + " ", dim ? .dim : .bold, limit: width)
        line.append(TextWidth.pad(stateText, to: Columns.state), stateStyle, limit: width)
        line.append(" " + TextWidth.pad(NumberFormat.count(p.processed), to: Columns.processed, right: true), .plain, limit: width)
        line.append(" " + TextWidth.pad(NumberFormat.count(p.failed), to: Columns.failed, right: true), p.failed > 0 ? .warning : .plain, limit: width)
        line.append(" " + TextWidth.pad(NumberFormat.rate(p.rate), to: Columns.rate, right: true), .accent, limit: width)
        if c.seen > 0 {
            line.append(" " + TextWidth.pad(NumberFormat.ago(p.lastSeen), to: c.seen - 1, right: true), p.lost ? .bad : .dim, limit: width)
        }
        // A straggler's time is marked "!" and in the alarm colour.
        let straggling = p.isStraggling(after: stragglerAfter)
        let running = p.runningFor.map { NumberFormat.itemTime($0) + (straggling ? "!" : " ") } ?? ""
        line.append(" " + TextWidth.pad(running, to: Columns.running, right: true), straggling ? .bad : .plain, limit: width)
        if c.current > 2, let current = p.current {
            line.append("  " + TextWidth.truncate(current, to: c.current - 2), straggling ? .bad : .plain, limit: width)
        }
        return line
    }

    private func stateLabel(_ p: PodRow) -> (String, TextStyle) {
        if p.lost { return ("lost", .bad) }
        switch p.state {
        case .finished:
            let code = p.exitCode ?? 0
            return ("finished (exit \(code))", code == 0 ? .dim : .bad)
        case .working: return ("working", .good)
        case .idle: return ("idle", .plain)
        case .waitingForOthers: return ("waiting-for-others", .plain)
        case .starting: return ("starting", .accent)
        case .stopping: return ("stopping", .warning)
        }
    }

    private func footer(_ s: MonitorSnapshot, view: ViewState) -> StyledLine {
        var line = StyledLine()
        for (key, label) in [("q", "quit"), ("?", view.showHelp ? "close help" : "help"), ("s", "sort: \(view.sort.rawValue)"), ("p", view.paused ? "resume" : "pause")] {
            line.append(" \(key)", .title, limit: width)
            line.append(" \(label) ", .plain, limit: width)
        }
        // The dead-letter view's key, where the pod counts leave room for it.
        if line.width + 16 + TextWidth.of(podCounts(s)) + 1 <= width {
            line.append(" f", .title, limit: width)
            line.append(" dead letters ", .plain, limit: width)
        }
        line.append(TextWidth.pad(podCounts(s) + " ", to: max(0, width - line.width), right: true), .dim, limit: width)
        return line
    }

    private func summary(_ s: MonitorSnapshot) -> StyledLine {
        var line = StyledLine()
        line.append(" " + podCounts(s), .dim, limit: width)
        return line
    }

    /// "pods 5: 3 working, 1 finished, 1 lost"
    private func podCounts(_ s: MonitorSnapshot) -> String {
        "pods \(s.pods.count): \(s.workingPods) working, \(s.finishedPods) finished, \(s.lostPods) lost"
    }

    private func help(rows: Int) -> [StyledLine] {
        let text = [
            ("wqtop keys", TextStyle.heading),
            ("  q          quit (the terminal is restored)", .plain),
            ("  ? h Esc    show or hide this help", .plain),
            ("  s          cycle the sort: pod, processed, rate, state (lost first), last seen", .plain),
            ("  p space    pause the screen; sampling goes on", .plain),
            ("  ↑ ↓ j k    scroll one pod; PgUp PgDn a page; Home g / End G first / last", .plain),
            ("  f          dead letters (QUEUE.failed): browse them; f or Esc closes", .plain),
            ("             there: r requeue the selected, R requeue all (asks), u refresh", .plain),
            ("", .plain),
            ("States of the queue", TextStyle.heading),
            ("  waiting for work   empty and nothing seen yet     loading   ready is rising", .plain),
            ("  draining           work left and being done       stalled   work left, nobody working", .plain),
            ("  drained            empty, nothing in flight       finished  drained and every pod ended", .plain),
            ("", .plain),
            ("A pod silent for 3 intervals (at least 3 s) is lost: its items go back to the queue.", .dim),
            ("RUNNING: how long a pod's oldest item runs; '!' marks a straggler, past 3x the Job's p95", .dim),
            ("(once 20 items finished) or near the broker's 30-minute consumer timeout.", .dim),
            ("Below the pods, when there is room: the latest failed attempts (failure events).", .dim),
            ("Counts come from the processors' progress events (exchange QUEUE.progress).", .dim),
        ]
        return text.prefix(rows).map { entry in
            var line = StyledLine()
            line.append(" " + entry.0, entry.1, limit: width)
            return line
        }
    }
}
