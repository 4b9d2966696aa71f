import Core
import Monitor
import Testing

@Suite("The metrics page: a snapshot and its figures as Prometheus families")
struct MetricsPageTests {
    /// The page's samples as "name{labels} value" lines, comments left out.
    private func samples(_ model: MonitorModel, at time: Double) -> [String] {
        MetricsPage(snapshot: model.snapshot(at: at(time))).render(.text).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map(String.init)
    }

    @Test("every series has the queue label; per-pod ones the pod; gauges follow the snapshot; unknowns are absent")
    func seriesAndLabels() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1), keepsMetrics: true)
        model.sample(QueueCounts(ready: 40, consumers: 2), at: at(0))
        var e = event("pod-a", .working, processed: 5, inHand: 1, seq: 1)
        e.current = "item-9"
        e.runningFor = 12
        model.receive(e, at: at(0))
        model.receive(event("pod-b", .finished, processed: 3, seq: 1, exitCode: 0), at: at(0))
        let lines = samples(model, at: 0)
        #expect(lines.allSatisfy { $0.contains("queue=\"jobs\"") }, "\(lines)")
        #expect(lines.contains("workqueue_ready_messages{queue=\"jobs\"} 40"))
        #expect(lines.contains("workqueue_consumers{queue=\"jobs\"} 2"))
        #expect(lines.contains("workqueue_items_processed_total{queue=\"jobs\"} 8"))
        #expect(lines.contains("workqueue_pod_items_processed_total{queue=\"jobs\",pod=\"pod-a\"} 5"))
        #expect(lines.contains("workqueue_pod_oldest_item_seconds{queue=\"jobs\",pod=\"pod-a\"} 12"))
        #expect(lines.contains("workqueue_pod_oldest_item_seconds{queue=\"jobs\",pod=\"pod-b\"} 0"))
        #expect(lines.contains("workqueue_pods{queue=\"jobs\",state=\"working\"} 1"))
        #expect(lines.contains("workqueue_pods{queue=\"jobs\",state=\"finished\"} 1"))
        #expect(lines.contains("workqueue_consumer_timeout_seconds{queue=\"jobs\"} 1800"))
        #expect(lines.contains("workqueue_job_finished{queue=\"jobs\"} 0"))
        // No load events, QUEUE.failed never sampled: absent rather than a made-up 0.
        #expect(!lines.contains { $0.hasPrefix("workqueue_done_ratio") || $0.hasPrefix("workqueue_items_loaded_total") })
        #expect(!lines.contains { $0.hasPrefix("workqueue_dead_letters_waiting") })
    }

    @Test("before the first sample the queue's gauges are absent and the monitor says it is not connected")
    func beforeConnecting() {
        let model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1), keepsMetrics: true)
        let lines = samples(model, at: 0)
        #expect(lines.contains("workqueue_monitor_connected{queue=\"jobs\"} 0"))
        #expect(!lines.contains { $0.hasPrefix("workqueue_ready_messages") })
        #expect(lines.contains("workqueue_item_duration_seconds_count{queue=\"jobs\"} 0"))
    }

    @Test("a lost pod counts as lost, not working, and its oldest item is no longer running")
    func lostPod() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1), keepsMetrics: true)
        model.link.listening(since: at(0))
        model.sample(QueueCounts(ready: 1, consumers: 0), at: at(0))
        var e = event("pod-a", .working, processed: 1, inHand: 1, seq: 1)
        e.runningFor = 5
        model.receive(e, at: at(0))
        let lines = samples(model, at: 60)
        #expect(lines.contains("workqueue_pods{queue=\"jobs\",state=\"lost\"} 1"))
        #expect(lines.contains("workqueue_pods{queue=\"jobs\",state=\"working\"} 0"))
        #expect(lines.contains("workqueue_pod_oldest_item_seconds{queue=\"jobs\",pod=\"pod-a\"} 0"))
    }
}
