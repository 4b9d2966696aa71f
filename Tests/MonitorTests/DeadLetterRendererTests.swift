import Testing

import Core
import Monitor

@Suite("wqtop's dead-letter view: rows in, text frames out; keys say what the browser must do")
struct DeadLetterRendererTests {
    let now = 1_795_919_400.0

    func row(_ i: Int) -> DeadLetterRow {
        DeadLetterRow(
            tag: UInt64(i + 1), item: "s3://bucket/input/file-\(i).png", bytes: 30 + i,
            reason: "exit status 3: convert: no decode delegate for this image format `PNG' @ error/constitute.c/ReadImage/746",
            exitStatus: 3, attempts: 3, pod: "processor-\(i % 3 + 1)", failedAt: now - 65 - Double(i))
    }

    func view(rows: Int, waiting: Int = 0) -> ViewState {
        var contents = DeadLetterContents(queue: "jobs.failed", workQueue: "jobs")
        contents.rows = (0..<rows).map(row)
        contents.waiting = waiting
        contents.limit = 1000
        contents.browsedAt = now
        var view = ViewState()
        _ = view.handle(.character("f"), page: 10)
        view.deadLetters?.update(contents)
        return view
    }

    func snapshot() -> MonitorSnapshot { MonitorSnapshot(queue: "jobs", endpoint: "localhost:5672") }

    func frame(_ view: ViewState, width: Int = 80, height: Int = 24) -> [StyledLine] {
        Renderer(width: width, height: height).frame(snapshot(), view: view)
    }

    @Test("an 80x24 view has 24 lines of at most 80 columns: title, table, the selected item's details and its keys")
    func standardTerminal() {
        let lines = frame(view(rows: 3))
        #expect(lines.count == 24 && lines.allSatisfy { $0.width <= 80 })
        let t = lines.map(\.text)
        #expect(t[0].hasPrefix(" wqtop  dead letters: jobs.failed @ localhost:5672") && t[0].hasSuffix(" 3 held "))
        #expect(t[1] == " Held unacknowledged; closing this view puts them back in order.")
        #expect(t[3].hasPrefix(" ITEM ") && t[3].contains("REASON") && t[3].contains("EXIT ATTEMPTS  POD") && t[3].hasSuffix("WHEN"))
        #expect(t[4].hasPrefix(" s3://bucket/inp… exit status 3: convert:…    3        3  processor-1  1m05s ago"))
        #expect(lines[4].spans == [Span(t[4], .heading)], "the selected row is one highlighted line")
        #expect(t[5].contains("processor-2") && t[5].hasSuffix("1m06s ago") && lines[5].spans.count == 6)
        #expect(t[21] == " Item (30 bytes): s3://bucket/input/file-0.png")
        #expect(t[22].hasPrefix(" Reason: exit status 3: convert: no decode delegate"))
        #expect(t[23].hasPrefix(" f close  r requeue  R requeue all  u refresh  ? help  q quit"))
        #expect(t[23].hasSuffix("3 in jobs.failed "))
    }

    @Test("a wide terminal shows whole items and more of each reason")
    func wideTerminal() {
        let lines = frame(view(rows: 3), width: 160, height: 40)
        #expect(lines.count == 40 && lines.allSatisfy { $0.width <= 160 })
        #expect(lines[6].text.contains("s3://bucket/input/file-2.png") && lines[6].text.contains("no decode delegate"))
        #expect(lines[39].text.hasSuffix("3 in jobs.failed "))
    }

    @Test("without UTF-8 the view is ASCII only, cut cells end in ~")
    func ascii() {
        var v = view(rows: 3)
        v.unicode = false
        v.deadLetters?.contents?.rows[1].item = "日本語のファイル名…"
        let lines = frame(v)
        #expect(lines.allSatisfy { $0.text.unicodeScalars.allSatisfy(\.isASCII) })
        #expect(lines[4].text.contains("s3://bucket/inp~"))
        #expect(lines[5].text.hasPrefix(" ??????????????~"))
    }

    @Test("an empty or missing dead-letter queue says so; the first browse says it is browsing")
    func emptyAndMissing() {
        var t = frame(view(rows: 0)).map(\.text)
        #expect(t[1] == " No dead letters ready in jobs.failed (another wqtop's view may hold some).")
        #expect(t[4].allSatisfy { $0 == " " } && t[21].allSatisfy { $0 == " " })
        var missing = view(rows: 0)
        missing.deadLetters?.contents?.exists = false
        t = frame(missing).map(\.text)
        #expect(t[1].hasPrefix(" jobs.failed does not exist (yet)"))
        var opening = ViewState()
        #expect(opening.handle(.character("f"), page: 10) == .deadLetters(.browse))
        t = frame(opening).map(\.text)
        #expect(t.count == 24 && t[1] == " Browsing jobs.failed...")
    }

    @Test("more items than fit: the selection scrolls the table, the heading says which; more waiting than held is said")
    func moreThanFit() {
        var v = view(rows: 100, waiting: 1_500)
        let renderer = Renderer(width: 80, height: 24)
        #expect(renderer.page(for: v) == 17)
        var t = frame(v).map(\.text)
        #expect(t[1] == " Showing 100 of 1,600: 1,500 more wait in the queue (browse limit 1,000).")
        #expect(t[3].hasSuffix("1-17 of 100 "))
        #expect(v.handle(.pageDown, page: renderer.page(for: v)) == .redraw)
        #expect(v.handle(.down, page: 17) == .redraw)
        var lines = frame(v)
        t = lines.map(\.text)
        #expect(v.deadLetters?.selected == 18)
        #expect(t[3].hasSuffix("3-19 of 100 ") && lines[20].spans.first?.style == .heading && t[21].contains("file-18.png"))
        _ = v.handle(.end, page: 17)
        lines = frame(v)
        t = lines.map(\.text)
        #expect(t[3].hasSuffix("84-100 of 100 ") && lines[20].spans.first?.style == .heading && t[21].contains("file-99.png"))
        _ = v.handle(.home, page: 17)
        _ = v.handle(.up, page: 17)
        #expect(v.deadLetters?.selected == 0)
    }

    @Test("hostile items (binary, newlines, 10 KB) stay on their row and inside the screen")
    func hostileItems() {
        var v = view(rows: 3)
        let bodies: [[UInt8]] = [[0xFF, 0x00, 0x1B, 0x5B, 0x32, 0x4A, 0x0A, 0xC3], Array("a\nb\r\nc".utf8), Array(repeating: 0x41, count: 10 * 1024)]
        v.deadLetters?.contents?.rows = bodies.enumerated().map { i, body in
            DeadLetterRow(Delivery(tag: UInt64(i + 1), body: body, redelivered: false, headers: ["x-failure-reason": .string("x\u{1B}[2J\ny")]))
        }
        for (width, height) in [(80, 24), (160, 40)] {
            let lines = frame(v, width: width, height: height)
            #expect(lines.count == height && lines.allSatisfy { $0.width <= width })
            #expect(!lines.map(\.text).joined().unicodeScalars.contains { $0.value < 0x20 }, "no control character reaches the terminal")
            #expect(lines[5].text.hasPrefix(" a?b??c ") && lines[5].text.contains(" x?[2J?y "))
            #expect(lines[4].text.contains("-        -  -") && lines[4].text.hasSuffix("-"), "missing headers show as -")
        }
        _ = v.handle(.end, page: 17)
        #expect(frame(v)[21].text.hasPrefix(" Item (10,240 bytes): AAAA") && frame(v)[21].width == 80)
    }

    @Test("r moves the selected item; R asks first: n moves nothing, y moves all; f and Esc close, q quits")
    func keys() {
        var v = view(rows: 3)
        _ = v.handle(.down, page: 17)
        #expect(v.handle(.character("r"), page: 17) == .deadLetters(.move(tag: 2)))
        #expect(v.handle(.character("R"), page: 17) == .redraw)
        #expect(frame(v)[2].text == " Move all 3 back to jobs? y/n")
        #expect(v.handle(.character("n"), page: 17) == .redraw)
        #expect(frame(v)[2].text == " nothing moved")
        _ = v.handle(.character("R"), page: 17)
        #expect(v.handle(.character("y"), page: 17) == .deadLetters(.moveAll))
        #expect(v.handle(.character("u"), page: 17) == .deadLetters(.browse))
        #expect(v.handle(.character("?"), page: 17) == .redraw)
        #expect(frame(v)[7].text == " wqtop keys", "help shows over the view")
        _ = v.handle(.character("\u{1B}"), page: 17)
        #expect(v.deadLetters != nil && !v.showHelp, "Esc closes the help first")
        #expect(v.handle(.character("\u{1B}"), page: 17) == .deadLetters(.close))
        #expect(v.deadLetters == nil)
        _ = v.handle(.character("f"), page: 17)
        #expect(v.handle(.character("f"), page: 17) == .deadLetters(.close))
        _ = v.handle(.character("f"), page: 17)
        #expect(v.handle(.character("q"), page: 17) == .quit)
        var empty = view(rows: 0)
        #expect(empty.handle(.character("r"), page: 17) == .nothing && empty.handle(.character("R"), page: 17) == .nothing)
    }

    @Test("a resize while R asks y/n keeps the question: only a key answers it")
    func resizeKeepsTheQuestion() {
        var v = view(rows: 3)
        _ = v.handle(.character("R"), page: 17)
        #expect(v.handle(.resize, page: 17) == .redraw)
        #expect(frame(v, width: 100, height: 30)[2].text == " Move all 3 back to jobs? y/n")
        #expect(v.handle(.character("y"), page: 17) == .deadLetters(.moveAll))
    }

    @Test("after a failure (the connection lost) the view holds nothing and does not call the queue empty")
    func failureIsNotEmpty() {
        var v = view(rows: 3)
        var lost = DeadLetterContents(queue: "jobs.failed", workQueue: "jobs")
        lost.note = DeadLetterNote("the connection holding the dead letters failed: connection closed", isError: true)
        v.deadLetters?.update(lost)
        let t = frame(v).map(\.text)
        #expect(!t[1].contains("empty") && t[1].contains("u browses again"), "\(t[1])")
    }

    @Test("a move's outcome replaces the row and keeps the selection in place; errors are one line")
    func outcomes() {
        var v = view(rows: 3)
        _ = v.handle(.end, page: 17)
        var after = v.deadLetters!.contents!
        after.rows.removeLast()
        after.note = DeadLetterNote("moved 1 item back to jobs: s3://bucket/input/file-2.png")
        v.deadLetters?.update(after)
        #expect(v.deadLetters?.selected == 1)
        #expect(frame(v)[2].spans == [Span(" moved 1 item back to jobs: s3://bucket/input/file-2.png", .good)])
        after.note = DeadLetterNote("moving an item back to jobs failed: connection lost; nothing was lost", isError: true)
        after.rows = []
        v.deadLetters?.update(after)
        #expect(v.deadLetters?.selected == 0 && frame(v)[2].spans.first?.style == .bad && frame(v).allSatisfy { $0.width <= 80 })
        after.note = nil
        after.rows = [row(0)]
        after.rows[0].deliveries = 3
        v.deadLetters?.update(after)
        #expect(frame(v, width: 100)[2].text == " Quorum queue: every browse counts a delivery (x-delivery-count up to 3); see the README.")
    }

    @Test("the main screen's footer names the view where there is room, and the help lists its keys")
    func mainScreenKeys() {
        var s = snapshot()
        s.state = .draining
        let wide = Renderer(width: 100, height: 24).frame(s, view: ViewState()).map(\.text)
        #expect(wide[23].hasPrefix(" q quit  ? help  s sort: pod  p pause  f dead letters "))
        var help = ViewState()
        _ = help.handle(.character("?"), page: 10)
        let t = Renderer(width: 80, height: 24).frame(s, view: help).map(\.text)
        #expect(t.contains { $0.hasPrefix("   f          dead letters (QUEUE.failed)") })
        #expect(t.contains { $0.contains("r requeue the selected, R requeue all (asks), u refresh") })
    }
}
