import Testing

import Core
import Monitor

@Suite("wqtop's item durations, stragglers and failures: events in, model and frames out")
struct ItemTimesAndFailuresTests {
    func durations(_ values: [Double]) -> DurationSummary {
        var h = DurationHistogram()
        for v in values { h.record(v) }
        return h.summary
    }

    func failure(_ n: Int, outcome: FailureEvent.Outcome = .retry, queue: String = "jobs") -> FailureEvent {
        FailureEvent(
            queue: queue, pod: "pod-\(n % 3)", instance: "id-\(n % 3)", item: "item-\(n)", attempt: 1, maxAttempts: 3,
            outcome: outcome, reason: "exited with status 3", exitStatus: 3, sentAt: 1000 + Double(n))
    }

    /// Two pods: one done with 40 items of about 0.1 s, one working for `running` s on an item.
    func model(running: Double) -> MonitorModel {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(QueueCounts(ready: 10, consumers: 2), at: at(0))
        var a = event("pod-a", .working, processed: 40, inHand: 1, seq: 1)
        a.durations = durations(Array(repeating: 0.1, count: 40))
        a.current = "fast-41"
        a.runningFor = 0.05
        var b = event("pod-b", .working, processed: 3, inHand: 1, seq: 1)
        b.durations = durations([0.1, 0.1, 0.1])
        b.current = "slow-item"
        b.runningFor = running
        model.receive(a, at: at(0))
        model.receive(b, at: at(0))
        return model
    }

    @Test("the Job's p50 and p95 come from every pod's histogram; an item past 3x p95 is a straggler, and runs on between events")
    func stragglers() throws {
        var s = model(running: 0.2).snapshot(at: at(0.5), wallTime: 1001)
        let job = try #require(s.itemDurations)
        #expect(job.count == 43)
        #expect(abs((job.percentile(0.95) ?? 0) - 0.1) < 0.01)
        #expect(s.stragglerAfter == 1, "3 x 0.1 s is below the 1 s floor")
        let slow = try #require(s.pods.first { $0.pod == "pod-b" })
        #expect(slow.runningFor == 0.7, "0.2 s at the event and 0.5 s since")
        #expect(s.stragglers == 0)
        s = model(running: 1.2).snapshot(at: at(0.5), wallTime: 1001)
        #expect(s.stragglers == 1 && s.pods.first { $0.pod == "pod-b" }?.isStraggling(after: s.stragglerAfter) == true)
        // Few items finished: no baseline, only the broker's consumer timeout counts.
        var few = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        var e = event("pod-c", .working, processed: 2, inHand: 1, seq: 1)
        e.durations = durations([0.01, 0.01])
        e.runningFor = 60
        few.receive(e, at: at(0))
        let f = few.snapshot(at: at(0), wallTime: 1001)
        #expect(f.stragglerAfter == 1440 && f.stragglers == 0)
        e.runningFor = 1500
        e.sentAt = 2600
        e.seq = 2
        few.receive(e, at: at(0))
        #expect(few.snapshot(at: at(0), wallTime: 1001).stragglers == 1)
    }

    @Test("with a consumer_timeout reported by the pods, the straggler limit is 80% of the largest, not of RabbitMQ's default")
    func stragglersNearTheReportedTimeout() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        var a = event("pod-a", .working, processed: 2, inHand: 1, seq: 1)
        a.runningFor = 3.5
        model.receive(a, at: at(0))
        var s = model.snapshot(at: at(0), wallTime: 1001)
        #expect(s.consumerTimeout == nil && s.stragglerAfter == 1440 && s.stragglers == 0, "unknown: RabbitMQ's default assumed")
        a.consumerTimeoutMS = 4000
        a.seq = 2
        model.receive(a, at: at(0))
        var b = event("pod-b", .idle, processed: 1, inHand: 0, seq: 1)
        b.consumerTimeoutMS = 5000
        model.receive(b, at: at(0))
        s = model.snapshot(at: at(0), wallTime: 1001)
        #expect(s.consumerTimeout == 5 && s.stragglerAfter == 4 && s.stragglers == 0)
        a.runningFor = 4.2
        a.seq = 3
        model.receive(a, at: at(0))
        #expect(model.snapshot(at: at(0), wallTime: 1001).stragglers == 1)
    }

    @Test("hostile skipped counts add up to at most 10^12 failure events, never past Int.max (which trapped)")
    func skippedCountsAreBounded() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        var flood = failure(1)
        flood.skipped = ProgressEvent.Limits.count
        for _ in 0..<3 { model.receive(flood.encoded(), at: at(0), wallTime: 1200) }
        #expect(model.snapshot(at: at(0), wallTime: 1200).failureEvents == ProgressEvent.Limits.count)
    }

    @Test("failure events are kept newest first, at most 100, other queues' ignored, skipped ones counted")
    func failuresKept() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        for n in 0..<150 { model.receive(failure(n).encoded(), at: at(0), wallTime: 1200) }
        model.receive(failure(999, queue: "other").encoded(), at: at(0), wallTime: 1200)
        var skipping = failure(150, outcome: .deadLetter)
        skipping.skipped = 7
        model.receive(skipping.encoded(), at: at(0), wallTime: 1200)
        let s = model.snapshot(at: at(0), wallTime: 1200)
        #expect(s.failures.count == MonitorModel.failuresKept)
        #expect(s.failures.first?.event.item == "item-150" && s.failures.first?.ago == 50)
        #expect(s.failures.last?.event.item == "item-51")
        #expect(s.failureEvents == 158)
        #expect(s.badEvents == 0)
        let json = s.jsonLine(time: 1200)
        #expect(json.contains(#""failure_events":158"#) && json.contains(#""outcome":"dead-letter""#))
        #expect(json.contains(#""straggler_after_seconds":1440"#) && json.contains(#""durations":null"#))
    }

    func frame(_ s: MonitorSnapshot, width: Int, height: Int, unicode: Bool = true) -> [String] {
        let lines = Renderer(width: width, height: height).frame(s, view: ViewState(unicode: unicode, color: unicode))
        #expect(lines.count == height)
        #expect(lines.allSatisfy { $0.width <= width })
        if !unicode { #expect(lines.allSatisfy { $0.text.unicodeScalars.allSatisfy(\.isASCII) }) }
        return lines.map(\.text)
    }

    func snapshotWithFailures(pods: Int = 2) -> MonitorSnapshot {
        var model = model(running: 4.5)
        for n in 0..<6 {
            var f = failure(n, outcome: n == 5 ? .deadLetter : .retry)
            if n == 4 { f.item = "naïve ☃ résumé " + String(repeating: "long ", count: 20) }
            model.receive(f.encoded(), at: at(0))
        }
        for p in 2..<pods { model.receive(event("pod-\(p)", .idle, processed: 1, seq: 1), at: at(0)) }
        return model.snapshot(at: at(0.5), wallTime: 1010)
    }

    @Test("80x24: running times in their column, the straggler marked, p50/p95 above the pods, failures below them")
    func standardFrame() throws {
        for unicode in [true, false] {
            let t = frame(snapshotWithFailures(), width: 80, height: 24, unicode: unicode)
            let note = try #require(t.first { $0.contains("Items p50") })
            #expect(note.contains("Items p50 100ms p95 100ms  1 straggler"), "\(note)")
            let heading = try #require(t.firstIndex { $0.hasPrefix(" POD") })
            #expect(t[heading].contains("RUNNING") && !t[heading].contains("SEEN"), "no room for SEEN at 80 columns")
            #expect(t[heading + 1].hasPrefix(" pod-a") && t[heading + 1].contains("50ms"))
            #expect(t[heading + 2].hasPrefix(" pod-b") && t[heading + 2].contains("5.0s!"), "\(t[heading + 2])")
            let pane = try #require(t.firstIndex { $0.hasPrefix(" LATEST FAILURES") })
            #expect(t[pane].contains("of 6, newest first"))
            #expect(t[pane + 1].contains("5.0s ago") && t[pane + 1].contains("dead-letter") && t[pane + 1].contains("exit 3"))
            #expect(t[pane + 1].contains("item-5"))
            #expect(t[pane + 2].contains("1/3") && t[pane + 2].contains("retry"))
            #expect(t[23].hasPrefix(" q quit"))
        }
    }

    @Test("a wide terminal shows SEEN, whole reasons and more failures; many pods leave no room for the pane")
    func wideAndCrowded() throws {
        let wide = frame(snapshotWithFailures(), width: 160, height: 40)
        #expect(wide.contains { $0.contains("SEEN") && $0.contains("RUNNING") })
        let pane = try #require(wide.firstIndex { $0.hasPrefix(" LATEST FAILURES") })
        #expect(wide[pane].contains("(6 of 6"))
        #expect(wide[pane + 1].hasSuffix("exited with status 3"))
        #expect(wide.contains { $0.contains("naïve ☃ résumé") })
        let crowded = frame(snapshotWithFailures(pods: 30), width: 80, height: 24)
        #expect(!crowded.contains { $0.contains("LATEST FAILURES") }, "the pods come first")
        var none = snapshotWithFailures()
        none.failures = []
        #expect(!frame(none, width: 80, height: 24).contains { $0.contains("LATEST FAILURES") })
        none.itemDurations = nil
        #expect(!frame(none, width: 80, height: 24).contains { $0.contains("Items p50") })
    }

    @Test("item times print short")
    func itemTimeFormat() {
        #expect(NumberFormat.itemTime(nil) == "-")
        #expect(NumberFormat.itemTime(0.0004) == "<1ms")
        #expect(NumberFormat.itemTime(0.0123) == "12ms")
        #expect(NumberFormat.itemTime(1.26) == "1.3s")
        #expect(NumberFormat.itemTime(185) == "3m05s")
        #expect(NumberFormat.itemTime(.nan) == "-")
    }
}
