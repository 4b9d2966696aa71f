/// Turns a snapshot into screen lines: a pure function of the snapshot, the view and the size.
/// It lays the screen out in regions and has each pane draw its own (see `ScreenPane`).
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
    package var podRows: Int { podRows(showing: nil) }

    /// Pod rows that fit beside the frame of `shown` (its shards' line takes a row).
    package func podRows(showing shown: MonitorSnapshot?) -> Int {
        max(1, height - (HeaderPane.rows + 1 + 2 * graphRows + (shown.map(ShardPane.rows) ?? 0)) - 2)
    }

    /// Dead letters that fit on screen (for paging).
    package var deadLetterRows: Int { DeadLetterPane.tableRows(height: height) }

    /// Rows a page key moves in the view on screen (`shown`: the frame on screen).
    package func page(for view: ViewState, showing shown: MonitorSnapshot? = nil) -> Int {
        view.deadLetters == nil ? podRows(showing: shown) : deadLetterRows
    }

    /// The full-screen frame: exactly `height` lines (fewer on a tiny terminal).
    package func frame(_ s: MonitorSnapshot, view: ViewState) -> [StyledLine] {
        guard width >= 40, height >= 10 else {
            var line = StyledLine()
            line.append("wqtop: \(s.state.rawValue), ready \(s.ready) (window too small)", .bold, limit: width)
            return [line]
        }
        if let dead = view.deadLetters, !view.showHelp {
            return Self.forTerminal(DeadLetterPane(snapshot: s, dead: dead).draw(in: ScreenRegion(width: width, rows: height)), view)
        }
        var lines = top(s, view: view, graphRows: graphRows)
        let body = ScreenRegion(width: width, rows: height - lines.count - 1)
        lines += view.showHelp ? HelpPane().draw(in: body) : podsAndFailures(s, view: view, in: body)
        lines += FooterPane(snapshot: s, view: view).draw(in: body.with(rows: 1))
        while lines.count < height { lines.insert(StyledLine(), at: lines.count - 1) }
        return Self.forTerminal(Array(lines.prefix(height)), view)
    }

    /// A frame with every pod and no key hints, for `--once` and logs.
    package func report(_ s: MonitorSnapshot) -> [StyledLine] {
        var view = ViewState(unicode: false, color: false)
        view.sort = .pod
        var lines = top(s, view: view, graphRows: 1)
        lines += PodPane(snapshot: s, view: view).draw(in: ScreenRegion(width: width, rows: s.pods.count + 1))
        var summary = StyledLine()
        summary.append(" " + s.podCounts, .dim, limit: width)
        lines.append(summary)
        return lines
    }

    /// The header, the history graphs, the progress line and the shards' line (with more than one
    /// shard), one under the other.
    private func top(_ s: MonitorSnapshot, view: ViewState, graphRows: Int) -> [StyledLine] {
        let region = ScreenRegion(width: width, rows: HeaderPane.rows)
        return HeaderPane(snapshot: s, view: view).draw(in: region)
            + SparklinePane(snapshot: s, unicode: view.unicode).draw(in: region.with(rows: 2 * graphRows))
            + ProgressPane(snapshot: s, unicode: view.unicode).draw(in: region.with(rows: 1))
            + ShardPane(snapshot: s).draw(in: region.with(rows: ShardPane.rows(s)))
    }

    /// The pods' table, and below it the failures pane when there is room enough for it.
    private func podsAndFailures(_ s: MonitorSnapshot, view: ViewState, in body: ScreenRegion) -> [StyledLine] {
        let pods = PodPane(snapshot: s, view: view)
        let podLines = max(2, min(body.rows, s.pods.count + 1))
        let paneRows = min(body.rows - podLines - 1, s.failures.count + 1)
        guard !s.failures.isEmpty && paneRows >= FailurePane.minimumRows else { return pods.draw(in: body) }
        return pods.draw(in: body.with(rows: body.rows - paneRows - 1)) + [StyledLine()]
            + FailurePane(snapshot: s).draw(in: body.with(rows: paneRows))
    }

    /// Lines for a terminal that is not UTF-8 are ASCII only: item names and "…" included.
    static func forTerminal(_ lines: [StyledLine], _ view: ViewState) -> [StyledLine] {
        guard !view.unicode else { return lines }
        return lines.map { StyledLine($0.spans.map { Span(TextWidth.ascii($0.text), $0.style) }) }
    }
}
