/// The line above the pods: the loads' progress bar, the Job's item times and stragglers, and
/// progress messages dropped or cut.
struct ProgressPane: ScreenPane {
    var snapshot: MonitorSnapshot
    /// Block characters for the bar; ASCII when the terminal is not UTF-8.
    var unicode: Bool

    func draw(in region: ScreenRegion) -> [StyledLine] {
        let s = snapshot, width = region.width
        var note = StyledLine()
        let bad = s.badEvents > 0 ? "bad events: \(NumberFormat.count(s.badEvents)) " : ""
        let times = itemTimes()
        let timesWidth = times.reduce(0) { $0 + TextWidth.of($1.0) }
        if s.loadedTotal != nil { progressBar(&note, width: width, room: width - TextWidth.of(bad) - timesWidth) }
        for (text, style) in times { note.append(text, style, limit: width) }
        if !bad.isEmpty {
            note.append(String(repeating: " ", count: max(0, width - note.width - TextWidth.of(bad))), .plain, limit: width)
            note.append(bad, .warning, limit: width)
        }
        return [note]
    }

    /// ` Done [#####.....] 1,234 / 5,000 (24.7%)`: done (processed and dead-lettered) of what the
    /// loaders confirmed, in at most `room` columns.
    private func progressBar(_ line: inout StyledLine, width: Int, room: Int) {
        let s = snapshot
        guard let total = s.loadedTotal, let percent = s.percentDone else { return }
        let numbers = " \(NumberFormat.count(s.done)) / \(NumberFormat.count(total)) (\(NumberFormat.percent(percent)))"
        let cells = min(40, max(10, width / 4), max(0, room - 9 - TextWidth.of(numbers)))
        let filled = min(cells, Int((percent / 100 * Double(cells)).rounded(.down)))
        let (full, empty) = unicode ? ("█", "░") : ("#", ".")
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
    private func itemTimes() -> [(String, TextStyle)] {
        guard let durations = snapshot.itemDurations else { return [] }
        var parts: [(String, TextStyle)] = [
            (" Items p50 ", .dim), (NumberFormat.itemTime(durations.percentile(0.5)), .bold),
            (" p95 ", .dim), (NumberFormat.itemTime(durations.percentile(0.95)), .bold),
        ]
        let stragglers = snapshot.stragglers
        if stragglers > 0 { parts.append(("  \(stragglers) straggler\(stragglers == 1 ? "" : "s")", .bad)) }
        return parts
    }
}
