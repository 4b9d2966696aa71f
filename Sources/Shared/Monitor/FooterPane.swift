/// The pods' screen's last line: the keys that matter most, and the pods' counts at the right.
struct FooterPane: ScreenPane {
    var snapshot: MonitorSnapshot
    var view: ViewState

    func draw(in region: ScreenRegion) -> [StyledLine] {
        let width = region.width, counts = snapshot.podCounts
        var line = StyledLine()
        for (key, label) in [("q", "quit"), ("?", view.showHelp ? "close help" : "help"), ("s", "sort: \(view.sort.rawValue)"), ("p", view.paused ? "resume" : "pause")] {
            line.append(" \(key)", .title, limit: width)
            line.append(" \(label) ", .plain, limit: width)
        }
        // The dead-letter view's key, where the pod counts leave room for it.
        if line.width + 16 + TextWidth.of(counts) + 1 <= width {
            line.append(" f", .title, limit: width)
            line.append(" dead letters ", .plain, limit: width)
        }
        line.append(TextWidth.pad(counts + " ", to: max(0, width - line.width), right: true), .dim, limit: width)
        return [line]
    }
}

extension MonitorSnapshot {
    /// "pods 5: 3 working, 1 finished, 1 lost"
    var podCounts: String {
        "pods \(pods.count): \(workingPods) working, \(finishedPods) finished, \(lostPods) lost"
    }
}
