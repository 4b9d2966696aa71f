import Testing

import Core
import Monitor

/// A load event of run `id`, sent `at` seconds after 1000.
private func load(_ id: String, confirmed: Int, at sent: Double = 1, queue: String = "jobs", final: Bool = false) -> LoadEvent {
    LoadEvent(queue: queue, load: id, confirmed: confirmed, final: final, startedAt: 1000, sentAt: 1000 + sent)
}

@Suite("wqtop's percent done: load events added up over runs, the bar and the JSON fields")
struct LoadProgressTests {
    @Test("two loads add up; a repeated or later event of one load replaces; older events and other queues are ignored")
    func sumOverLoads() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.receive(load("a", confirmed: 100, at: 1))
        model.receive(load("b", confirmed: 50, at: 1))
        model.receive(load("a", confirmed: 200, at: 2))
        model.receive(load("a", confirmed: 200, at: 2, final: true))
        model.receive(load("a", confirmed: 150, at: 1.5))
        model.receive(load("c", confirmed: 9_999, queue: "elsewhere"))
        model.receive(event("p", .working, processed: 60), at: at(0))
        model.sample(QueueCounts(ready: 190, consumers: 1), at: at(0))
        let s = model.snapshot(at: at(0))
        #expect(s.loadedTotal == 250)
        #expect(s.done == 60)
        #expect(s.percentDone == 24)
        #expect(model.badEvents == 0)
    }

    @Test("a hostile load event is dropped and counted like other bad events")
    func hostileLoad() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.receive(load("a", confirmed: -5))
        model.receive(Array(#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":1e30}"#.utf8), at: at(0))
        model.receive(Array(#"{"v":1,"kind":"progressbar","queue":"jobs"}"#.utf8), at: at(0))
        model.receive(Array(#"{"v":2,"kind":"load","queue":"jobs"}"#.utf8), at: at(0))
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(0))
        #expect(model.badEvents == 3)
        #expect(model.snapshot(at: at(0)).loadedTotal == nil)
    }

    @Test("done counts dead letters; the ETA is what the loads left at the current rate")
    func etaFromWhatIsLeft() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.receive(load("a", confirmed: 1000, final: true))
        var dead = event("p", .working, processed: 0, seq: 0)
        dead.deadLettered = 100
        model.receive(dead, at: at(0))
        model.sample(QueueCounts(ready: 10, consumers: 1), at: at(0))
        model.receive(event("p", .working, processed: 100, seq: 1), at: at(1))
        model.sample(QueueCounts(ready: 10, consumers: 1), at: at(1))
        let s = model.snapshot(at: at(1))
        #expect(s.done == 100)
        #expect(s.percentDone == 10)
        #expect(abs(s.rateNow - 100) < 0.001)
        #expect(abs((s.eta ?? 0) - 9) < 0.001, "900 left at 100/s, not the 10 ready")
    }

    @Test("without load events the JSON says null; with them loaded_total and percent_done, rounded down")
    func jsonFields() {
        var s = MonitorSnapshot(queue: "jobs", endpoint: "h:1")
        #expect(s.jsonLine(time: 0).contains(#""loaded_total":null"#))
        #expect(s.jsonLine(time: 0).contains(#""percent_done":null"#))
        s.loadedTotal = 3000
        s.processed = 2999
        #expect(s.jsonLine(time: 0).contains(#""loaded_total":3000"#))
        #expect(s.jsonLine(time: 0).contains(#""percent_done":99.9"#))
        s.processed = 3010
        #expect(s.jsonLine(time: 0).contains(#""percent_done":100"#), "duplicates do not go past 100")
    }

    func snapshot(loaded: Int?, processed: Int = 37_655, deadLettered: Int = 1, badEvents: Int = 0) -> MonitorSnapshot {
        var s = MonitorSnapshot(queue: "jobs", endpoint: "localhost:5672")
        s.state = .draining
        s.ready = 12_345
        s.consumers = 1
        s.inFlight = 1
        s.processed = processed
        s.deadLettered = deadLettered
        s.rateNow = 1234.4
        s.eta = 10
        s.elapsed = 83
        s.depthHistory = [50_000, 12_345]
        s.rateHistory = [0, 1234]
        s.pods = [PodRow(pod: "processor-1", instance: "i", state: .working, processed: processed, inHand: 1, rate: 1234)]
        s.loadedTotal = loaded
        s.badEvents = badEvents
        return s
    }

    @Test("the bar sits on the line above the pods, in UTF-8 and in ASCII, at 80x24 and wide", arguments: [
        (80, 24, true, " Done [███████████████░░░░░] 37,656 / 50,000 (75.3%)"),
        (80, 24, false, " Done [###############.....] 37,656 / 50,000 (75.3%)"),
        (160, 40, true, " Done [██████████████████████████████░░░░░░░░░░] 37,656 / 50,000 (75.3%)"),
        (160, 40, false, " Done [##############################..........] 37,656 / 50,000 (75.3%)"),
    ])
    func bar(_ width: Int, _ height: Int, _ unicode: Bool, _ expected: String) {
        let renderer = Renderer(width: width, height: height)
        let view = ViewState(unicode: unicode, color: true)
        let lines = renderer.frame(snapshot(loaded: 50_000), view: view)
        let without = renderer.frame(snapshot(loaded: nil), view: view)
        #expect(lines.count == height && lines.allSatisfy { $0.width <= width })
        let row = lines.firstIndex { $0.text.hasPrefix(" Done ") }
        #expect(row != nil && lines[row!].text == expected)
        #expect(row.map { without[$0].text.allSatisfy { $0 == " " } } == true, "without load events the line stays blank")
        #expect(zip(lines, without).filter { $0 != $1 }.count == 1, "nothing else moves")
    }

    @Test("0%, 100%, and done past the total (redeliveries) shows a full bar at 100% with the true counts")
    func ends() {
        let view = ViewState(unicode: false, color: false)
        let r = Renderer(width: 80, height: 24)
        let zero = r.frame(snapshot(loaded: 300, processed: 0, deadLettered: 0), view: view)[6].text
        #expect(zero == " Done [....................] 0 / 300 (0.0%)")
        let full = r.frame(snapshot(loaded: 300, processed: 299, deadLettered: 1), view: view)[6].text
        #expect(full == " Done [####################] 300 / 300 (100.0%)")
        let over = r.frame(snapshot(loaded: 300, processed: 310, deadLettered: 2), view: view)[6].text
        #expect(over == " Done [####################] 312 / 300 (100.0%)")
        let almost = r.frame(snapshot(loaded: 10_000, processed: 9_999, deadLettered: 0), view: view)[6].text
        #expect(almost == " Done [###################.] 9,999 / 10,000 (99.9%)", "100% only when all is done")
    }

    @Test("the bar and the bad-events note share the line within 80 columns; --once shows the bar too")
    func barWithBadEvents() {
        let s = snapshot(loaded: 5_000_000_000, processed: 1_234_567_890, badEvents: 12_345)
        let line = Renderer(width: 80, height: 24).frame(s, view: ViewState(unicode: false, color: false))[6]
        #expect(line.width == 80)
        #expect(line.text.hasPrefix(" Done [") && line.text.contains("1,234,567,891 / 5,000,000,000 (24.6%)"))
        #expect(line.text.hasSuffix(" bad events: 12,345 "))
        #expect(snapshot(loaded: 300, processed: 30).textReport(width: 80).contains("31 / 300 (10.3%)"))
    }
}
