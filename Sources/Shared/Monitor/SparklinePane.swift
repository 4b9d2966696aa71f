/// The history graphs: the queue's depth and the rate, each half the region's rows high, over
/// the last samples that fit.
struct SparklinePane: ScreenPane {
    var snapshot: MonitorSnapshot
    /// Block characters; ASCII when the terminal is not UTF-8.
    var unicode: Bool

    func draw(in region: ScreenRegion) -> [StyledLine] {
        let rows = region.rows / 2
        let depth = graph("Depth", snapshot.depthHistory.map(Double.init), rows: rows, width: region.width, style: .accent) {
            NumberFormat.count(Int($0))
        }
        return depth + graph("Rate/s", snapshot.rateHistory, rows: rows, width: region.width, style: .good) { NumberFormat.rate($0) }
    }

    /// A sparkline `rows` high over the last samples that fit, scaled to their maximum.
    private func graph(
        _ label: String, _ values: [Double], rows: Int, width: Int, style: TextStyle, format: (Double) -> String
    ) -> [StyledLine] {
        let labelWidth = 8
        let top = values.suffix(max(1, width - labelWidth - 12)).max() ?? 0
        let scale = " max \(format(top))"
        let plotWidth = max(1, width - labelWidth - max(12, TextWidth.of(scale)))
        let shown = Array(values.suffix(plotWidth))
        let blocks: [String] = unicode ? [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : [" ", ".", ".", ":", ":", "|", "|", "#", "#"]
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
}
