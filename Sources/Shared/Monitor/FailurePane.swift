/// The failures pane: the latest failed attempts, newest first, in the room the pod table leaves
/// on a tall terminal.
struct FailurePane: ScreenPane {
    /// Lines a pane needs at least to be worth showing: a heading and two failures.
    static let minimumRows = 3

    var snapshot: MonitorSnapshot

    /// The heading and as many failures as fit in the region.
    func draw(in region: ScreenRegion) -> [StyledLine] {
        let s = snapshot, width = region.width
        var heading = StyledLine()
        let shown = min(s.failures.count, region.rows - 1)
        // The pods' counts of failed attempts are complete; failure events may be skipped (rate limit).
        let total = max(s.failed, s.failures.count)
        let title = " LATEST FAILURES (\(shown) of \(NumberFormat.count(total)), newest first)"
        heading.append(TextWidth.pad(title, to: width), .heading, limit: width)
        let podWidth = min(20, max(8, s.failures.prefix(shown).map { TextWidth.of($0.event.pod) }.max() ?? 8))
        let itemWidth = max(8, min(30, (width - podWidth - 40) / 4))
        return [heading] + s.failures.prefix(shown).map { row($0, podWidth: podWidth, itemWidth: itemWidth, width: width) }
    }

    /// ` 12s ago  processor-1   2/3  retry        exit 3  item  reason`
    private func row(_ row: FailureRow, podWidth: Int, itemWidth: Int, width: Int) -> StyledLine {
        let e = row.event
        var line = StyledLine()
        line.append(TextWidth.pad(NumberFormat.ago(row.ago) + " ago", to: 9, right: true) + "  ", .dim, limit: width)
        line.append(TextWidth.pad(TextWidth.truncate(e.pod, to: podWidth), to: podWidth) + " ", .plain, limit: width)
        line.append(TextWidth.pad("\(e.attempt)/\(e.maxAttempts)", to: 7, right: true) + "  ", .plain, limit: width)
        let deadLetter = e.outcome == .deadLetter
        line.append(TextWidth.pad(e.outcome.rawValue, to: 11), deadLetter ? .bad : .warning, limit: width)
        line.append(TextWidth.pad(e.exitStatus.map { "exit \($0)" } ?? "-", to: 9, right: true) + "  ", .plain, limit: width)
        line.append(TextWidth.pad(TextWidth.truncate(e.item, to: itemWidth), to: itemWidth) + "  ", .bold, limit: width)
        line.append(e.reason, .dim, limit: width)
        return line
    }
}
