/// The pods' table: a heading (with the range shown when not all fit) and a row per pod, in the
/// view's order from its scroll position.
struct PodPane: ScreenPane {
    var snapshot: MonitorSnapshot
    var view: ViewState

    private struct Columns {
        var pod: Int
        var current: Int
        /// The last-seen column, on terminals 100 columns wide or more (a silent pod shows "lost" anyway).
        var seen: Int
        static let state = 18, processed = 10, failed = 7, rate = 8, running = 7
        static let fixed = state + processed + failed + rate + running + 6

        init(width: Int, pods: [PodRow]) {
            seen = width >= 100 ? 8 : 0
            let flexible = max(10, width - Self.fixed - seen)
            let longest = pods.map { TextWidth.of($0.pod) }.max() ?? 3
            pod = min(max(longest, 8), max(16, flexible / 2), 40)
            current = max(0, flexible - pod)
        }
    }

    func draw(in region: ScreenRegion) -> [StyledLine] {
        let s = snapshot, width = region.width
        let c = Columns(width: width, pods: s.pods)
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
        let visible = max(1, region.rows - 1)
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
            lines.append(row(pod, c, width: width))
        }
        return lines
    }

    private func row(_ p: PodRow, _ c: Columns, width: Int) -> StyledLine {
        var line = StyledLine()
        let (stateText, stateStyle) = Self.stateLabel(p)
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
        let straggling = p.isStraggling(after: snapshot.stragglerAfter)
        let running = p.runningFor.map { NumberFormat.itemTime($0) + (straggling ? "!" : " ") } ?? ""
        line.append(" " + TextWidth.pad(running, to: Columns.running, right: true), straggling ? .bad : .plain, limit: width)
        if c.current > 2, let current = p.current {
            line.append("  " + TextWidth.truncate(current, to: c.current - 2), straggling ? .bad : .plain, limit: width)
        }
        return line
    }

    private static func stateLabel(_ p: PodRow) -> (String, TextStyle) {
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
}
