/// The dead-letter view's screen (key `f`): what the browser holds, the selection and the last
/// outcome, over the whole screen.
struct DeadLetterPane: ScreenPane {
    var snapshot: MonitorSnapshot
    var dead: DeadLetterView

    /// Table rows in a screen `height` high: all but four lines above, two of details about the
    /// selected item and the footer.
    static func tableRows(height: Int) -> Int { max(1, height - 7) }

    /// Exactly the region's rows: a title, a summary, a note, the table and the selected item.
    func draw(in region: ScreenRegion) -> [StyledLine] {
        let s = snapshot, width = region.width, height = region.rows
        let contents = dead.contents
        let queue = contents?.queue ?? "\(s.queue).failed"
        var title = StyledLine()
        let right = contents.map { " \(NumberFormat.count($0.rows.count)) held " } ?? " "
        title.append(TextWidth.pad(" wqtop  dead letters: \(queue) @ \(s.endpoint)", to: max(0, width - TextWidth.of(right))), .title, limit: width)
        title.append(right, .title, limit: width)
        var lines = [title, summary(contents, queue: queue, width: width), note(width: width)]
        let rows = Self.tableRows(height: height)
        let first = min(max(0, dead.selected - rows + 1), max(0, dead.rows.count - rows))
        let c = DeadLetterColumns(width: width, rows: dead.rows)
        let range = dead.rows.count > rows ? "\(first + 1)-\(min(dead.rows.count, first + rows)) of \(dead.rows.count) " : ""
        var heading = StyledLine()
        heading.append(TextWidth.pad(c.cells(["ITEM", "REASON", "EXIT", "ATTEMPTS", "POD", "WHEN"]).joined(), to: max(0, width - TextWidth.of(range))), .heading, limit: width)
        heading.append(range, .heading, limit: width)
        lines.append(heading)
        for (index, row) in dead.rows.enumerated().dropFirst(first).prefix(rows) {
            lines.append(tableRow(row, c, selected: index == dead.selected, browsedAt: contents?.browsedAt ?? 0, width: width))
        }
        while lines.count < height - 3 { lines.append(StyledLine()) }
        lines += details(dead.rows.indices.contains(dead.selected) ? dead.rows[dead.selected] : nil, width: width)
        lines.append(footer(contents, width: width))
        return Array(lines.prefix(height))
    }

    /// What is shown of the queue: held, waiting beyond the limit, or why nothing.
    private func summary(_ contents: DeadLetterContents?, queue: String, width: Int) -> StyledLine {
        var line = StyledLine()
        guard let contents else {
            line.append(" Browsing \(queue)...", .dim, limit: width)
            return line
        }
        if !contents.exists {
            line.append(" \(queue) does not exist (yet): no item has been dead-lettered.", .dim, limit: width)
        } else if contents.total == 0, contents.note?.isError == true {
            // A failure gave everything back: what the queue holds now is not known.
            line.append(" Nothing held (see below): u browses again.", .dim, limit: width)
        } else if contents.total == 0 {
            // Another wqtop's view may hold some: held items are not ready, and AMQP cannot tell.
            line.append(" No dead letters ready in \(queue) (another wqtop's view may hold some).", .good, limit: width)
        } else if contents.waiting > 0 {
            line.append(
                " Showing \(NumberFormat.count(contents.rows.count)) of \(NumberFormat.count(contents.total)): "
                    + "\(NumberFormat.count(contents.waiting)) more wait in the queue (browse limit \(NumberFormat.count(contents.limit))).",
                .warning, limit: width)
        } else if contents.cutItems > 0 {
            line.append(
                " Held unacknowledged; \(NumberFormat.count(contents.cutItems)) beyond \(DeadLetterBrowser.byteBudget >> 20) MiB kept cut short (R moves them, r does not).",
                .warning, limit: width)
        } else {
            line.append(" Held unacknowledged; closing this view puts them back in order.", .dim, limit: width)
        }
        return line
    }

    /// The question before moving everything, the last outcome, or a quorum queue's caveat.
    private func note(width: Int) -> StyledLine {
        var line = StyledLine()
        if dead.confirmingMoveAll, let contents = dead.contents {
            line.append(" Move all \(NumberFormat.count(contents.total)) back to \(contents.workQueue)? y/n", .warning, limit: width)
        } else if let note = dead.note {
            line.append(" " + note.text, note.isError ? .bad : .good, limit: width)
        } else if let most = dead.rows.compactMap(\.deliveries).max(), most > 0 {
            line.append(" Quorum queue: every browse counts a delivery (x-delivery-count up to \(most)); see the README.", .warning, limit: width)
        }
        return line
    }

    private func tableRow(_ row: DeadLetterRow, _ c: DeadLetterColumns, selected: Bool, browsedAt: Double, width: Int) -> StyledLine {
        let exit = row.exitStatus.map(String.init) ?? "-"
        let attempts = row.attempts.map(String.init) ?? "-"
        let when = row.failedAt.map { NumberFormat.duration(browsedAt - $0) + " ago" } ?? "-"
        let cells = c.cells([row.item, row.reason ?? "-", exit, attempts, row.pod ?? "-", when])
        var line = StyledLine()
        guard !selected else {
            line.append(TextWidth.pad(cells.joined(), to: width), .heading, limit: width)
            return line
        }
        let styles: [TextStyle] = [.bold, .plain, row.exitStatus == nil ? .dim : .bad, .plain, .dim, .dim]
        for (cell, style) in zip(cells, styles) { line.append(cell, style, limit: width) }
        return line
    }

    /// The selected item and its reason, as much as a line holds.
    private func details(_ row: DeadLetterRow?, width: Int) -> [StyledLine] {
        var item = StyledLine(), reason = StyledLine()
        if let row {
            item.append(" Item (\(NumberFormat.count(row.bytes)) bytes): ", .dim, limit: width)
            item.append(row.item, .bold, limit: width)
            reason.append(" Reason: ", .dim, limit: width)
            reason.append(row.reason ?? "-", .plain, limit: width)
        }
        return [item, reason]
    }

    private func footer(_ contents: DeadLetterContents?, width: Int) -> StyledLine {
        var line = StyledLine()
        for (key, label) in [("f", "close"), ("r", "requeue"), ("R", "requeue all"), ("u", "refresh"), ("?", "help"), ("q", "quit")] {
            line.append(" \(key)", .title, limit: width)
            line.append(" \(label) ", .plain, limit: width)
        }
        let count = contents.map { "\(NumberFormat.count($0.total)) in \($0.queue) " } ?? ""
        line.append(TextWidth.pad(count, to: max(0, width - line.width), right: true), .dim, limit: width)
        return line
    }
}

/// Column widths of the dead-letter table: item and reason share what the fixed columns leave.
struct DeadLetterColumns {
    static let exit = 4, attempts = 8, when = 10
    var item: Int
    var reason: Int
    var pod: Int

    init(width: Int, rows: [DeadLetterRow]) {
        let fixed = 1 + 1 + 1 + Self.exit + 1 + Self.attempts + 2 + 1 + Self.when
        let longest = rows.map { TextWidth.of($0.pod ?? "-") }.max() ?? 3
        pod = min(max(longest, 3), 24, max(3, (width - fixed) / 4))
        let flexible = max(10, width - fixed - pod)
        item = min(60, max(8, flexible * 2 / 5))
        reason = max(1, flexible - item)
    }

    /// The cells of one line (item, reason, exit, attempts, pod, when), each with the space
    /// before it, cut or padded to its column.
    func cells(_ values: [String]) -> [String] {
        let widths = [item, reason, Self.exit, Self.attempts, pod, Self.when]
        let right = [false, false, true, true, false, true]
        return values.indices.map { i in
            (i == 4 ? "  " : " ") + TextWidth.pad(values[i], to: widths[i], right: right[i])
        }
    }
}
