import Testing

import Core
import Monitor

/// One sample of the shards `jobs.0` ... : each (ready, consumers), or nil for a missing one.
private func shards(_ counts: [(Int, Int)?]) -> [ShardRow] {
    counts.enumerated().map { index, c in ShardRow(queue: "jobs.\(index)", counts: c.map { QueueCounts(ready: $0.0, consumers: $0.1) }) }
}

@Suite("wqtop with shards: the Job's totals over every shard, each shard shown, a wrong shard count never finished")
struct ShardTests {
    @Test("ready items add up over the shards; consumers are the most any shard has, not their sum")
    func totals() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(shards: shards([(120, 2), (200, 2), (900, 1)]), at: at(0))
        let s = model.snapshot(at: at(0))
        #expect(s.ready == 1220)
        #expect(s.consumers == 2)
        #expect(s.shards.map(\.queue) == ["jobs.0", "jobs.1", "jobs.2"])
        #expect(s.shards.map { $0.counts?.ready } == [120, 200, 900])
        #expect(s.shards.map(\.lagging) == [false, false, true])
    }

    @Test("one shard has no shard rows: the model is what it was without shards")
    func oneShard() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(shards: [ShardRow(queue: "jobs", counts: QueueCounts(ready: 7, consumers: 1))], at: at(0))
        let s = model.snapshot(at: at(0))
        #expect(s.shards.isEmpty)
        #expect(s.ready == 7 && s.consumers == 1)
        #expect(!s.jsonLine(time: 0).contains("shards"))
    }

    @Test("drained only once every shard is empty; finished only once no shard has a consumer (no pods reporting)")
    func drainedOverEveryShard() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(shards: shards([(5, 1), (5, 1), (5, 1)]), at: at(0))
        model.sample(shards: shards([(0, 1), (0, 1), (3, 1)]), at: at(1))
        #expect(model.snapshot(at: at(1)).state == .draining)
        model.sample(shards: shards([(0, 0), (0, 1), (0, 0)]), at: at(2))
        var s = model.snapshot(at: at(2))
        #expect(s.state == .drained)
        #expect(!s.finished, "a consumer on one shard may still hold work")
        model.sample(shards: shards([(0, 0), (0, 0), (0, 0)]), at: at(3))
        s = model.snapshot(at: at(3))
        #expect(s.finished)
        #expect(s.processed == 15, "what left the shards, added up")
    }

    @Test("a missing shard makes the queue missing, and the banner names it")
    func missingShard() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(shards: shards([(0, 0), nil, (0, 0)]), at: at(0))
        let s = model.snapshot(at: at(0))
        #expect(s.state == .queueMissing)
        #expect(s.missingShards == ["jobs.1"])
        let t = Renderer(width: 100, height: 24).frame(s, view: ViewState()).map(\.text)
        #expect(t[3].hasPrefix(" The shard 'jobs.1' does not exist (yet): waiting for a loader to declare it."))
        #expect(t.contains { $0.contains("1: missing") })
        #expect(s.jsonLine(time: 0).contains(#"{"consumers":null,"lagging":false,"queue":"jobs.1","ready":null}"#))
    }

    @Test("a missing shard: the others' items still count as ready and queued, and the receipt is not exact (no false loss)")
    func missingShardIsNoLoss() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.receive(LoadEvent(queue: "jobs", load: "L1", confirmed: 30, final: true, startedAt: 1000, sentAt: 1001))
        model.sample(shards: shards([(10, 0), (10, 0), (10, 0), nil]), at: at(1))
        let s = model.snapshot(at: at(1))
        #expect(s.state == .queueMissing)
        #expect(s.ready == 30 && s.consumers == 0)
        #expect(s.jsonLine(time: 0).contains(#""ready":30,"#))
        let r = Receipt(snapshot: s, endedAt: 10, endedBy: "quit", deadLetterQueueDepth: 0).reconciliation
        #expect(r.difference.value == 0)
        #expect(!r.exact, "balanced is then null")
        #expect(r.doubts == ["the shard 'jobs.3' does not exist (deleted with its items, or wqtop was given another --shards than the Job's)"])
    }

    @Test("a shard lags when it holds twice the median shard and 10 items more, or has fewer consumers with work")
    func lagging() {
        #expect(ShardRow.marked(shards([(100, 2), (100, 2), (100, 2)])).allSatisfy { !$0.lagging })
        #expect(ShardRow.marked(shards([(0, 2), (0, 2), (9, 2)])).allSatisfy { !$0.lagging }, "the last few items are no skew")
        #expect(ShardRow.marked(shards([(0, 2), (0, 2), (10, 2)])).map(\.lagging) == [false, false, true])
        #expect(ShardRow.marked(shards([(100, 2), (100, 2), (199, 2)])).allSatisfy { !$0.lagging })
        #expect(ShardRow.marked(shards([(100, 2), (100, 2), (200, 2)])).map(\.lagging) == [false, false, true])
        #expect(ShardRow.marked(shards([(0, 2), (50, 2)])).map(\.lagging) == [false, true])
        #expect(ShardRow.marked(shards([(40, 2), (79, 2)])).allSatisfy { !$0.lagging })
        #expect(ShardRow.marked(shards([(100, 2), (100, 0), (100, 2)])).map(\.lagging) == [false, true, false])
        #expect(ShardRow.marked(shards([(100, 2), (0, 0), (100, 2)])).allSatisfy { !$0.lagging }, "one shard ahead makes no other lag")
        #expect(ShardRow.marked(shards([(100, 2), nil, (100, 2)])).allSatisfy { !$0.lagging })
    }

    @Test("the screen shows each shard's ready and consumers under the progress line, and which lag")
    func screen() {
        var model = MonitorModel(queue: "jobs", endpoint: "localhost:5672", interval: .seconds(1))
        model.sample(shards: shards([(120, 2), (1_200, 2), (9_000, 2)]), at: at(0))
        let s = model.snapshot(at: at(0))
        let lines = Renderer(width: 80, height: 24).frame(s, view: ViewState())
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.width <= 80 })
        let t = lines.map(\.text)
        #expect(t[1] == " Ready 10,320   In flight 0   Consumers 2   Processed 0  ")
        #expect(t[7] == " Shards ready/consumers  0: 120/2  1: 1,200/2  2: 9,000/2  lagging: 2")
        #expect(t[8].hasPrefix(" POD"))
        #expect(s.textReport(width: 100).split(separator: "\n").contains(" Shards ready/consumers  0: 120/2  1: 1,200/2  2: 9,000/2  lagging: 2"))
    }

    @Test("a page key moves as many pods as the frame shows beside the shards' line")
    func paging() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(shards: shards([(1, 2), (2, 2)]), at: at(0))
        var s = model.snapshot(at: at(0))
        s.pods = (0..<50).map { PodRow(pod: "p-\($0)", state: .working) }
        let renderer = Renderer(width: 80, height: 24)
        let drawn = renderer.frame(s, view: ViewState()).filter { $0.text.hasPrefix(" p-") }.count
        #expect(drawn == renderer.page(for: ViewState(), showing: s))
        #expect(renderer.podRows(showing: s) == renderer.podRows - 1)
    }

    @Test("more shards than fit end in '+K more', every shard counted once, the lag hint kept")
    func manyShards() {
        var counts: [(Int, Int)?] = Array(repeating: (1_000, 4), count: 64)
        counts[63] = (50_000, 4)
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(shards: shards(counts), at: at(0))
        for width in [60, 80, 200] {
            let line = Renderer(width: width, height: 30).report(model.snapshot(at: at(0))).map(\.text).first { $0.hasPrefix(" Shards") } ?? ""
            #expect(TextWidth.of(line) <= width)
            let shown = line.components(separatedBy: ": ").count - 1
            let more = Int(line.split(separator: "+").last?.split(separator: " ").first ?? "") ?? -1
            #expect(line.hasSuffix("lagging: 63"), "\(line)")
            #expect(shown - 1 + more == 64, "\(line)")
        }
    }

    @Test("--json has a shards array beside the unchanged totals")
    func json() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(shards: shards([(1, 3), (2, 3), (30, 3)]), at: at(0))
        let line = model.snapshot(at: at(0)).jsonLine(time: 0)
        #expect(line.contains(#""ready":33,"#) && line.contains(#""consumers":3,"#))
        #expect(line.contains(
            #""shards":[{"consumers":3,"lagging":false,"queue":"jobs.0","ready":1},{"consumers":3,"lagging":false,"queue":"jobs.1","ready":2},{"consumers":3,"lagging":true,"queue":"jobs.2","ready":30}]"#))
        #expect(!line.contains("shards_warning"))
    }

    @Test("a shard count that may be wrong is shown, and the Job is never finished meanwhile")
    func mismatch() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(QueueCounts(ready: 3, consumers: 0), at: at(0))
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(1))
        #expect(model.snapshot(at: at(1)).finished)
        let check = ShardCheck(topology: Topology(queue: "jobs", queueType: .classic))
        model.shardMismatch = check.verdict([QueueCounts(ready: 0, consumers: 0)])
        let s = model.snapshot(at: at(1))
        #expect(!s.finished)
        #expect(s.state == .drained)
        let t = Renderer(width: 200, height: 24).frame(s, view: ViewState()).map(\.text)
        #expect(t[3].hasPrefix(" Shard count? 'jobs.0' exists, so the Job looks sharded, but wqtop watches 'jobs' alone"))
        #expect(s.jsonLine(time: 0).contains(#""shards_warning":"Shard count? 'jobs.0' exists"#))
        let receipt = Receipt(snapshot: s, endedAt: 10, endedBy: "quit", deadLetterQueueDepth: 0)
        #expect(!receipt.reconciliation.exact)
        #expect(receipt.reconciliation.doubts.contains { $0.hasPrefix("Shard count?") })
        #expect(receipt.shardsWarning != nil)
    }

    @Test("the shard check looks for QUEUE.0 with one shard, for QUEUE.N and work in QUEUE with N")
    func shardCheck() {
        let one = ShardCheck(topology: Topology(queue: "jobs", queueType: .quorum))
        #expect(one.probes == ["jobs.0"])
        #expect(one.verdict([nil]) == nil)
        #expect(one.verdict([QueueCounts(ready: 0, consumers: 0)]) != nil)
        let four = ShardCheck(topology: Topology(queue: "jobs", queueType: .quorum, shards: 4))
        #expect(four.probes == ["jobs", "jobs.4"])
        #expect(four.verdict([nil, nil]) == nil)
        #expect(four.verdict([QueueCounts(ready: 0, consumers: 0), nil]) == nil, "an empty, unused QUEUE left from before is harmless")
        #expect(four.verdict([QueueCounts(ready: 5, consumers: 0), nil])?.contains("'jobs' holds 5 items and 0 consumers") == true)
        #expect(four.verdict([QueueCounts(ready: 0, consumers: 2), nil]) != nil)
        #expect(four.verdict([nil, QueueCounts(ready: 0, consumers: 0)])?.contains("'jobs.4' exists, so the Job may have more shards") == true)
    }

    @Test("the receipt adds the shards up and lists them; with one shard it has no shards field")
    func receipt() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.receive(LoadEvent(queue: "jobs", load: "l1", confirmed: 30, final: true, startedAt: 990, sentAt: 995))
        model.sample(shards: shards([(10, 0), (10, 0), (10, 0)]), at: at(0))
        var finished = event("a", .finished, processed: 26, seq: 1, exitCode: 0)
        finished.unsettled = []
        model.receive(finished, at: at(1))
        model.sample(shards: shards([(0, 0), (4, 0), (0, 0)]), at: at(2))
        let r = Receipt(snapshot: model.snapshot(at: at(2), wallTime: 1010), endedAt: 1010, endedBy: "quit", deadLetterQueueDepth: 0)
        #expect(r.ready == 4 && r.queued == 4)
        #expect(r.shards?.map(\.queue) == ["jobs.0", "jobs.1", "jobs.2"])
        #expect(r.shards?.map(\.ready.value) == [0, 4, 0])
        #expect(r.reconciliation.balanced && r.reconciliation.exact)
        var single = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        single.sample(QueueCounts(ready: 0, consumers: 0), at: at(0))
        #expect(Receipt(snapshot: single.snapshot(at: at(0)), endedAt: 1, endedBy: "quit", deadLetterQueueDepth: nil).shards == nil)
    }

    @Test("the metrics page has each shard's ready and consumers with shards, none with one; the totals keep their names")
    func metrics() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1), keepsMetrics: true)
        model.sample(shards: shards([(1, 3), (2, 2), nil]), at: at(0))
        model.sample(shards: shards([(1, 3), (2, 2), (4, 3)]), at: at(1))
        let lines = MetricsPage(snapshot: model.snapshot(at: at(1))).render(.text).split(separator: "\n").map(String.init)
        #expect(lines.contains("workqueue_ready_messages{queue=\"jobs\"} 7"))
        #expect(lines.contains("workqueue_consumers{queue=\"jobs\"} 3"))
        #expect(lines.contains("workqueue_shard_ready_messages{queue=\"jobs\",shard=\"0\"} 1"))
        #expect(lines.contains("workqueue_shard_ready_messages{queue=\"jobs\",shard=\"2\"} 4"))
        #expect(lines.contains("workqueue_shard_consumers{queue=\"jobs\",shard=\"1\"} 2"))
        #expect(lines.contains("# TYPE workqueue_shard_ready_messages gauge"))
        var single = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1), keepsMetrics: true)
        single.sample(QueueCounts(ready: 7, consumers: 3), at: at(0))
        let page = MetricsPage(snapshot: single.snapshot(at: at(0))).render(.text)
        #expect(!page.contains("workqueue_shard_"))
    }
}
