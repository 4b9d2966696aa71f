import Testing

import Core
@testable import Monitor

@Suite("wqtop's panes: each draws inside the region it is given")
struct ScreenPaneTests {
    /// A busy snapshot: long names, many pods, failures, loads and histories longer than any screen.
    func snapshot(pods: Int) -> MonitorSnapshot {
        var s = MonitorSnapshot(queue: "jobs-with-a-long-name", endpoint: "rabbitmq.example.com:5672")
        s.state = .draining
        s.ready = 123_456_789
        s.consumers = pods
        s.processed = 987_654_321
        s.failed = 77
        s.deadLettered = 5
        s.loadedTotal = 2_000_000_000
        s.badEvents = 12
        s.depthHistory = (0..<500).map { $0 * 1000 }
        s.rateHistory = (0..<500).map { Double($0) }
        s.brokerAlarm = "low on disk space on every node of the cluster, for a long while now"
        s.pods = (0..<pods).map { i in
            PodRow(pod: "processor-with-a-very-long-name-\(i)", state: .working, processed: i, rate: 1, current: String(repeating: "x", count: 300))
        }
        s.failures = (0..<20).map { n in
            FailureRow(
                event: FailureEvent(
                    queue: "jobs", pod: "processor-with-a-very-long-name", instance: "i", item: String(repeating: "i", count: 100), attempt: 1,
                    maxAttempts: 3, outcome: .retry, reason: String(repeating: "r", count: 300), sentAt: 1000 + Double(n)),
                ago: Double(n))
        }
        return s
    }

    @Test("no pane draws past its region's width, and the panes that fill a region draw at most its rows", arguments: [40, 63, 80, 100, 211])
    func panesStayInside(width: Int) {
        let s = snapshot(pods: 50)
        var dead = DeadLetterView()
        var contents = DeadLetterContents(queue: "jobs.failed", workQueue: "jobs")
        contents.rows = (0..<40).map { DeadLetterRow(tag: UInt64($0 + 1), item: String(repeating: "d", count: 200), bytes: 200, reason: "why") }
        dead.update(contents)
        for rows in [2, 3, 7, 30] {
            let region = ScreenRegion(width: width, rows: rows)
            let filling: [any ScreenPane] = [PodPane(snapshot: s, view: ViewState()), FailurePane(snapshot: s), HelpPane(), DeadLetterPane(snapshot: s, dead: dead)]
            for pane in filling {
                let lines = pane.draw(in: region)
                #expect(lines.count <= rows && lines.allSatisfy { $0.width <= width }, "\(type(of: pane)) over \(width)x\(rows)")
            }
            #expect(DeadLetterPane(snapshot: s, dead: dead).draw(in: region).count == rows, "the dead-letter view fills the screen")
        }
        let fixed: [(any ScreenPane, Int)] = [
            (HeaderPane(snapshot: s, view: ViewState()), HeaderPane.rows), (SparklinePane(snapshot: s, unicode: true), 6),
            (ProgressPane(snapshot: s, unicode: true), 1), (FooterPane(snapshot: s, view: ViewState()), 1),
        ]
        for (pane, rows) in fixed {
            let lines = pane.draw(in: ScreenRegion(width: width, rows: rows))
            #expect(lines.count == rows && lines.allSatisfy { $0.width <= width }, "\(type(of: pane)) over \(width)x\(rows)")
        }
    }
}
