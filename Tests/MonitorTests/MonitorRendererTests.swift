import Testing

import Monitor

@Suite("wqtop's renderer: snapshots in, text frames out")
struct MonitorRendererTests {
    func snapshot(pods: Int = 3, state: QueueState = .draining) -> MonitorSnapshot {
        var s = MonitorSnapshot(queue: "jobs", endpoint: "localhost:5672")
        s.state = state
        s.ready = 12_345
        s.consumers = pods
        s.inFlight = pods
        s.processed = 37_655
        s.failed = 3
        s.deadLettered = 1
        s.rateNow = 1234.4
        s.rateMinute = 1100
        s.eta = 10
        s.elapsed = 83
        s.depthHistory = [50_000, 40_000, 30_000, 12_345]
        s.rateHistory = [0, 500, 1000, 1234]
        s.pods = (0..<pods).map { i in
            PodRow(
                pod: "processor-\(i + 1)", instance: "i\(i)", state: .working, processed: 1000 * (i + 1), failed: i,
                inHand: 1, rate: 250.5, current: "s3://bucket/input/file-\(i).png", lastSeen: 0.4)
        }
        return s
    }

    func text(_ lines: [StyledLine]) -> [String] { lines.map(\.text) }

    @Test("an 80x24 frame has 24 lines of at most 80 columns with header, graphs, pods and keys")
    func standardTerminal() {
        let lines = Renderer(width: 80, height: 24).frame(snapshot(), view: ViewState())
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.width <= 80 })
        let t = text(lines)
        #expect(t[0].hasPrefix(" wqtop  jobs @ localhost:5672"))
        #expect(t[0].hasSuffix("draining  elapsed 1m23s "))
        #expect(t[1] == " Ready 12,345   In flight 3   Consumers 3   Processed 37,655  ")
        #expect(t[2].contains("Failed 3") && t[2].contains("Dead-lettered 1") && t[2].contains("Rate 1234/s") && t[2].contains("ETA 10s"))
        #expect(t[4].hasPrefix(" Depth ") && t[4].contains("█▇▅▂ max 50,000"))
        #expect(t[7].hasPrefix(" POD▼") && t[7].contains("PROCESSED") && t[7].contains("CURRENT"))
        #expect(t[8].hasPrefix(" processor-1 working"))
        #expect(t[8].contains("1,000") && t[8].contains("251") && t[8].contains("s3://bucke…"))
        #expect(t[23].hasPrefix(" q quit  ? help  s sort: pod  p pause"))
        #expect(t[23].hasSuffix("pods 3: 3 working, 0 finished, 0 lost "))
    }

    @Test("a wide terminal shows whole item names and the same numbers")
    func wideTerminal() {
        let lines = Renderer(width: 160, height: 40).frame(snapshot(), view: ViewState())
        #expect(lines.count == 40)
        #expect(lines.allSatisfy { $0.width <= 160 })
        #expect(text(lines).contains { $0.contains("s3://bucket/input/file-2.png") })
        #expect(text(lines).contains { $0.contains(" 0.4s ") }, "the last-seen column, on 100 columns or more")
        #expect(text(lines).filter { $0.contains(" Depth ") }.count == 1)
    }

    @Test("hundreds of pods scroll: the rows shown follow the scroll and the footer says which")
    func manyPods() {
        var view = ViewState()
        let renderer = Renderer(width: 80, height: 24)
        let s = snapshot(pods: 300)
        #expect(view.handle(.pageDown, page: renderer.podRows) == .redraw)
        let t = text(renderer.frame(s, view: view))
        #expect(t.count == 24)
        #expect(t[8].hasPrefix(" processor-16 "), "one page is 15 rows; names sort naturally")
        #expect(t[7].hasSuffix("16-30 of 300 "))
        #expect(t[23].hasSuffix("pods 300: 300 working, 0 finished, 0 lost "))
        _ = view.handle(.end, page: renderer.podRows)
        let last = text(renderer.frame(s, view: view))
        #expect(last[22].hasPrefix(" processor-300 "))
        #expect(last[7].hasSuffix("286-300 of 300 "))
    }

    @Test("sorting by state puts lost pods first and keeps finished pods with their exit codes")
    func lostAndFinished() {
        var s = snapshot(pods: 3)
        s.pods[0].lost = true
        s.pods[1].state = .finished
        s.pods[1].exitCode = 3
        var view = ViewState()
        for _ in 0..<3 { _ = view.handle(.character("s"), page: 10) }
        #expect(view.sort == .state)
        let t = text(Renderer(width: 80, height: 24).frame(s, view: view))
        #expect(t[8].hasPrefix(" processor-1 lost"))
        #expect(t[9].hasPrefix(" processor-3 working"))
        #expect(t[10].hasPrefix(" processor-2 finished (exit 3)"))
        #expect(t[23].contains("pods 3: 1 working, 1 finished, 1 lost"))
    }

    @Test("the Job's end is said plainly, and an error exit is not hidden")
    func jobEnd() {
        var s = snapshot(pods: 2, state: .drained)
        s.ready = 0
        s.inFlight = 0
        s.finished = true
        s.deadLettered = 0
        for i in s.pods.indices {
            s.pods[i].state = .finished
            s.pods[i].exitCode = 0
        }
        var t = text(Renderer(width: 80, height: 24).frame(s, view: ViewState()))
        #expect(t[0].contains("finished  elapsed"))
        #expect(t[3] == " Job finished: 37,655 processed; 2 of 2 pods exited 0")
        #expect(t[2].contains("ETA done"))
        s.pods[1].exitCode = 1
        t = text(Renderer(width: 80, height: 24).frame(s, view: ViewState()))
        #expect(t[3] == " Job finished: 37,655 processed; 2 of 2 pods exited (1 with an error)")
    }

    @Test("the banner line says what matters: reconnecting, a broker alarm, stalled, a missing queue, paused")
    func banners() {
        var s = snapshot()
        s.connectionProblem = "connect: cannot connect to the broker at localhost:5672 (next try in 2s)"
        var t = text(Renderer(width: 100, height: 24).frame(s, view: ViewState()))
        #expect(t[3].hasPrefix(" reconnecting... connect: cannot connect to the broker at localhost:5672"))
        s.connectionProblem = nil
        s.brokerAlarm = "low on disk"
        t = text(Renderer(width: 100, height: 24).frame(s, view: ViewState()))
        #expect(t[3].hasPrefix(" Broker alarm: publishing blocked (low on disk); processors go on draining"))
        #expect(s.jsonLine(time: 0).contains(#""alarm":"low on disk""#))
        s.brokerAlarm = nil
        #expect(!s.jsonLine(time: 0).contains(#""alarm""#))
        s.state = .stalled
        s.consumers = 0
        t = text(Renderer(width: 80, height: 24).frame(s, view: ViewState()))
        #expect(t[3] == " Stalled: 12,345 ready, no consumers.")
        #expect(t[0].contains(" stalled  elapsed"))
        s.state = .queueMissing
        t = text(Renderer(width: 100, height: 24).frame(s, view: ViewState()))
        #expect(t[3].hasPrefix(" The queue 'jobs' does not exist (yet)"))
        s.state = .draining
        var view = ViewState()
        _ = view.handle(.character("p"), page: 10)
        t = text(Renderer(width: 80, height: 24).frame(s, view: view))
        #expect(t[3].hasPrefix(" Paused:") && t[23].contains("p resume"))
    }

    @Test("zero, huge numbers and long UTF-8 item names stay inside their columns")
    func extremes() {
        var s = snapshot(pods: 2)
        s.ready = 0
        s.processed = 9_876_543_210
        s.rateNow = 0
        s.eta = nil
        s.pods[0].processed = 9_876_543_210
        s.pods[0].rate = 123_456_789
        s.pods[1].current = String(repeating: "日本語のファイル名", count: 20) + "\n\u{1B}[31m"
        s.pods[1].pod = "a-very-long-pod-name-from-a-statefulset-with-a-hash-7f9c8d6b5-x2x9z"
        let lines = Renderer(width: 80, height: 24).frame(s, view: ViewState())
        #expect(lines.allSatisfy { $0.width <= 80 })
        let t = text(lines)
        #expect(t[1].contains("Ready 0 ") && t[1].contains("Processed 9,876,543,210"))
        #expect(t[2].contains("Rate 0/s") && t[2].contains("ETA -"))
        #expect(t.contains { $0.contains("123.5M") })
        #expect(!t.joined().contains("\u{1B}"), "control characters never reach the terminal")
        #expect(t.contains { $0.contains("…") })
    }

    @Test("bad progress events get a short note above the pods only when there are some, in the frame and --once")
    func badEventsNote() {
        var s = snapshot()
        #expect(text(Renderer(width: 80, height: 24).frame(s, view: ViewState()))[6].allSatisfy { $0 == " " })
        s.badEvents = 12_345
        let lines = Renderer(width: 80, height: 24).frame(s, view: ViewState())
        #expect(lines.count == 24 && lines.allSatisfy { $0.width <= 80 })
        #expect(lines[6].text.hasSuffix(" bad events: 12,345 ") && lines[6].width == 80)
        #expect(lines[6].spans.last == Span("bad events: 12,345 ", .warning))
        #expect(text(lines)[7].hasPrefix(" POD"), "the pod table does not move")
        #expect(s.textReport(width: 80).contains("bad events: 12,345"))
    }

    @Test("no pods yet says why; help replaces the table; a tiny window still shows the state")
    func emptyHelpAndTiny() {
        var s = snapshot(pods: 0, state: .waitingForWork)
        s.consumers = 0
        var t = text(Renderer(width: 80, height: 24).frame(s, view: ViewState()))
        #expect(t[8].contains("No processor has reported yet"))
        var view = ViewState()
        _ = view.handle(.character("?"), page: 10)
        t = text(Renderer(width: 80, height: 24).frame(s, view: view))
        #expect(t[7] == " wqtop keys")
        #expect(t.count == 24)
        t = text(Renderer(width: 30, height: 5).frame(s, view: ViewState()))
        #expect(t == ["wqtop: waiting for work, read…"])
    }

    @Test("without UTF-8 the graphs use ASCII; --once prints every pod without key hints")
    func asciiAndReport() {
        let lines = Renderer(width: 80, height: 24).frame(snapshot(), view: ViewState(unicode: false, color: false))
        for line in lines {
            let ascii = line.text.unicodeScalars.allSatisfy { $0.isASCII }
            #expect(ascii, "not ASCII: \(line.text)")
        }
        #expect(TextWidth.ascii("日本 ü…") == "???? ?~", "columns kept: a wide character is two '?'")
        let report = snapshot(pods: 40).textReport(width: 100)
        #expect(report.split(separator: "\n").filter { $0.hasPrefix(" processor-") }.count == 40)
        #expect(!report.contains("q quit"))
        #expect(report.hasSuffix("pods 40: 40 working, 0 finished, 0 lost"))
    }

    @Test("numbers are printed short and exact where it matters")
    func numberFormats() {
        #expect(NumberFormat.count(0) == "0")
        #expect(NumberFormat.count(1_234_567) == "1,234,567")
        #expect(NumberFormat.rate(0.25) == "0.3")
        #expect(NumberFormat.rate(28_431) == "28.4k")
        #expect(NumberFormat.duration(nil) == "-")
        #expect(NumberFormat.duration(185) == "3m05s")
        #expect(NumberFormat.duration(7620) == "2h07m")
        #expect(TextWidth.of("日本") == 4)
        #expect(TextWidth.pad("日本語", to: 5) == "日本…")
    }
}
