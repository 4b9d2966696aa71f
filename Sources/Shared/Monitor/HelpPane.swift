/// The help overlay: the keys, read from the key table (`KeyBinding.table`), then what the
/// screen's words mean; as many lines as the region holds.
struct HelpPane: ScreenPane {
    func draw(in region: ScreenRegion) -> [StyledLine] {
        let keys = KeyBinding.helpLines.map { ($0, TextStyle.plain) }
        let text = [("wqtop keys", TextStyle.heading)] + keys + Self.legend
        return text.prefix(region.rows).map { entry in
            var line = StyledLine()
            line.append(" " + entry.0, entry.1, limit: region.width)
            return line
        }
    }

    /// What the states, the lost pods, RUNNING and the failures pane mean.
    private static let legend: [(String, TextStyle)] = [
        ("", .plain),
        ("States of the queue", .heading),
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
}
