import Foundation
import Core
import TestSupport
import Testing
import AMQPClient

@Suite("wqtop's dead-letter view against a real RabbitMQ, under tmux", .serialized)
struct DeadLetterViewTests {
    /// A scenario whose items 1...count were loaded and failed once each by a processor: that
    /// many dead letters, in order.
    func deadLetters(_ count: Int, _ label: String, type: QueueType = .classic) throws -> Scenario {
        let s = try Scenario(label, type: type)
        try s.load(["--quiet"] + (1...count).map { "item-\($0)" })
        let failing = try s.run("processor", ["--quiet", "--max-attempts", "1", "--", "sh", "-c", "exit 3"], adding: ["POD_NAME": "dl-pod"])
        #expect(failing.status == 0, "\(failing.output)")
        try s.waitForReady(count, in: s.failedQueue)
        return s
    }

    /// The bodies of `queue` in order, taken unacknowledged and given back by closing the connection.
    func peek(_ queue: String) throws -> [String] {
        let connection = try TestBroker.connect(queue: queue)
        defer { connection.close() }
        guard let ready = try connection.inspectQueue(queue)?.ready, ready > 0 else { return [] }
        try connection.setPrefetch(1000)
        _ = try connection.consume(queue: queue)
        var bodies: [String] = []
        while bodies.count < ready, let event = try connection.nextEvent(timeout: .seconds(5)) {
            if case .delivery(let delivery) = event { bodies.append(String(decoding: delivery.body, as: UTF8.self)) }
        }
        return bodies
    }

    /// wqtop in a tmux session of the scenario, showing its main screen.
    func startMonitor(_ s: Scenario, _ label: String) throws -> Tmux {
        let tmux = s.tmux(label)
        try tmux.start(tool: "wqtop", ["--interval", "0.3"], environment: s.environment.merging(Tmux.terminal) { $1 })
        try tmux.waitFor("q quit", timeout: 20)
        return tmux
    }

    @Test(
        "f shows each dead letter with reason, exit status, attempts, pod and age, held; closing the view (or kill -9) leaves depth and order as they were",
        arguments: QueueType.allCases)
    func browseKeepsOrder(type: QueueType) throws {
        let s = try deadLetters(5, "dead-view", type: type)
        let queue = s.queue
        let before = try peek(s.failedQueue)
        #expect(before == (1...5).map { "item-\($0)" })
        try waitUntil("the peeked items back") { try s.counts(s.failedQueue)?.ready == 5 }

        let tmux = try startMonitor(s, "wqtop-dl")
        try tmux.keys("f")
        // The selected item's reason is drawn below the rows: the frame is whole once it shows.
        try tmux.waitFor("5 held", timeout: 20)
        let screen = try tmux.waitFor(" Reason: command failed", timeout: 5)
        #expect(screen.contains(" wqtop  dead letters: \(queue).failed @ 127.0.0.1:\(TestBroker.port)"))
        let rows = screen.split(separator: "\n").filter { $0.contains("item-") && $0.contains("exit status 3") }
        #expect(rows.count == 5, "\(screen)")
        for row in rows {
            #expect(row.contains("    3        1  dl-pod") && row.hasSuffix(" ago"), "\(row)")
        }
        #expect(screen.contains(" Item (6 bytes): item-1") && screen.contains(" Reason: command failed with exit status 3"))
        #expect(try s.counts(s.failedQueue)?.ready == 0, "the view holds them all, unacknowledged")
        // u browses again: the same items in the same order.
        try tmux.keys("u")
        try tmux.waitFor("5 held", timeout: 20)
        if type == .quorum {
            // Each browse (the test's peek, the first view) was a delivery the quorum queue counted.
            try tmux.waitFor("Quorum queue: every browse counts a delivery (x-delivery-count up to 2)", timeout: 5)
        }
        try tmux.keys("f")
        try tmux.waitFor("q quit  ? help  s sort", timeout: 10)
        try waitUntil("the dead letters back in their queue") { try s.counts(s.failedQueue)?.ready == 5 }
        #expect(try peek(s.failedQueue) == before, "closing the view keeps the order")

        // Killed -9 while the view holds them: the broker gets them back, in order.
        try tmux.keys("f")
        try tmux.waitFor("5 held", timeout: 20)
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        kill(try tmux.panePID(), SIGKILL)
        try waitUntil("the dead letters back after kill -9") { try s.counts(s.failedQueue)?.ready == 5 }
        #expect(try peek(s.failedQueue) == before)
    }

    @Test("the view keeps 64 MiB of items whole: of twenty items of 12 MiB the rest is held cut short, r refuses those, memory stays bounded, order kept")
    func byteBudget() throws {
        let s = try deadLetters(1, "dead-big")
        let publisher = try s.connect()
        defer { publisher.close() }
        try publisher.enableConfirms()
        for n in 2...21 {
            let body = Array("item-\(n) ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 12 << 20)
            try body.withUnsafeBytes { try publisher.publish(routingKey: s.failedQueue, body: $0) }
            try publisher.waitForConfirms()
        }
        try waitUntil("21 dead letters") { try s.counts(s.failedQueue)?.ready == 21 }
        let tmux = try startMonitor(s, "wqtop-dl")
        try tmux.keys("f")
        // item-1 is small; five of 12 MiB fit in 64 MiB whole, the other fifteen are cut short.
        let screen = try tmux.waitFor("21 held", timeout: 60)
        #expect(screen.contains("15 beyond 64 MiB kept cut short (R moves them, r does not)"), "\(screen)")
        let status = try String(contentsOfFile: "/proc/\(try tmux.panePID())/status", encoding: .utf8)
        let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? Int.max
        #expect(peak < 170_000, "wqtop's peak memory \(peak) kB: 21 items of 252 MiB in all must not all stay whole")
        // The last one is cut short: r refuses it; the second one is whole: r moves it.
        try tmux.keys("G")
        try tmux.keys("r")
        try tmux.waitFor("this item is held cut short", timeout: 10)
        #expect(try s.counts()?.ready == 0)
        try tmux.keys("g")
        try tmux.keys("j")
        try tmux.keys("r")
        try tmux.waitFor("moved 1 item back", timeout: 20)
        #expect(try s.counts()?.ready == 1)
        try tmux.keys("f")
        try waitUntil("the rest back") { try s.counts(s.failedQueue)?.ready == 20 }
        let order = try peek(s.failedQueue).map { String($0.split(separator: " ").first ?? "") }
        #expect(order == ["item-1"] + (3...21).map { "item-\($0)" }, "\(order)")
    }

    @Test("while one wqtop's view holds every dead letter, another's says none is ready and that a view may hold some, not 'empty'")
    func otherViewerHoldsThem() throws {
        let s = try deadLetters(3, "dead-other")
        let queue = s.queue
        let first = try startMonitor(s, "wqtop-dl")
        try first.keys("f")
        try first.waitFor("3 held", timeout: 20)
        let second = try startMonitor(s, "wqtop-dl")
        try second.keys("f")
        let screen = try second.waitFor("No dead letters ready in \(queue).failed (another wqtop's view may hold some", timeout: 20)
        #expect(!screen.contains("is empty"))
        try first.keys("f")
        try waitUntil("the items back") { try s.counts(s.failedQueue)?.ready == 3 }
        try second.keys("u")
        try second.waitFor("3 held", timeout: 20)
    }

    @Test("r moves exactly the selected item back with a fresh attempt count; R then n moves nothing; R then y moves all, counted as a load")
    func requeueKeys() throws {
        let s = try deadLetters(4, "dead-move")
        let queue = s.queue
        let tmux = try startMonitor(s, "wqtop-dlm")
        try tmux.keys("f")
        try tmux.waitFor("4 held", timeout: 20)
        try tmux.keys("Down")
        try tmux.keys("r")
        try tmux.waitFor("moved 1 item back to \(queue): item-2", timeout: 20)
        #expect(try s.counts()?.ready == 1, "the work queue got one copy")
        let screen = try tmux.screen()
        #expect(screen.contains("3 held") && !screen.contains("item-2 "), "\(screen)")

        try tmux.keys("R")
        try tmux.waitFor("Move all 3 back to \(queue)? y/n", timeout: 10)
        try tmux.keys("n")
        try tmux.waitFor("nothing moved", timeout: 10)
        #expect(try s.counts()?.ready == 1)

        try tmux.keys("R")
        try tmux.waitFor("Move all 3 back to \(queue)? y/n", timeout: 10)
        try tmux.keys("y")
        try tmux.waitFor("moved 3 items back to \(queue)", timeout: 30)
        try tmux.waitFor("No dead letters ready in \(queue).failed", timeout: 10)
        #expect(try s.counts(s.failedQueue)?.ready == 0)
        #expect(try s.counts()?.ready == 4)
        // The moves were load events: wqtop's progress bar counts 4 loaded.
        try tmux.keys("f")
        try tmux.waitFor("0 / 4 (0.0%)", timeout: 10)

        let moved = try s.drain()
        #expect(Set(moved.map { String(decoding: $0.body, as: UTF8.self) }) == Set((1...4).map { "item-\($0)" }))
        for delivery in moved {
            #expect(delivery.headers["x-attempts"] == nil && delivery.headers["x-failure-reason"] == nil)
            #expect(delivery.headers["x-failed-at"] == nil && delivery.headers["x-exit-status"] == nil && delivery.headers["x-failed-by"] == nil)
        }
    }

    @Test("r typed right after u moves the row it was pressed on, never the item that takes its delivery tag in the new browse")
    func moveAfterRefreshIsNotStale() throws {
        let s = try deadLetters(3, "dead-stale")
        let queue = s.queue
        let tmux = try startMonitor(s, "wqtop-dls")
        try tmux.keys("f")
        try tmux.waitFor("3 held", timeout: 20)
        // item-2 (delivery tag 2) goes back: item-1 (tag 1) and item-3 (tag 3) stay held.
        try tmux.keys("Down")
        try tmux.keys("r")
        try tmux.waitFor("moved 1 item back to \(queue): item-2", timeout: 20)
        // A new dead letter arrives meanwhile; the next browse hands out item-1, item-3, item-4 as tags 1, 2, 3.
        let publisher = try s.connect()
        defer { publisher.close() }
        try Array("item-4".utf8).withUnsafeBytes { try publisher.publish(routingKey: s.failedQueue, body: $0, mandatory: false) }
        try waitUntil("item-4 in the dead-letter queue") { try s.counts(s.failedQueue)?.ready == 1 }
        // item-3 selected; u and r in one go: r was pressed on item-3's row of the old browse.
        try tmux.keys("G")
        try tmux.waitFor(" Item (6 bytes): item-3", timeout: 10)
        try tmux.keys("ur")
        let screen = try tmux.waitFor("not held any more", orAnyOf: ["moved 1 item back to \(queue): item-"], timeout: 20)
        #expect(!screen.contains("moved 1 item back to \(queue): item-4"), "\(screen)")
        try tmux.keys("f")
        try waitUntil("the view closed and its dead letters back") { try s.counts(s.failedQueue)?.ready ?? 0 >= 2 }
        let moved = try s.drainedBodies()
        #expect(!moved.contains("item-4"), "the new dead letter was moved without anyone selecting it: \(moved)")
    }

    @Test("Home and End as tmux sends them (ESC [1~, ESC [4~, unknown to TERM=xterm-256color) move the selection and leave the view open")
    func homeAndEndUnderTmux() throws {
        let s = try deadLetters(3, "dead-keys")
        let tmux = try startMonitor(s, "wqtop-dlk")
        try tmux.keys("f")
        try tmux.waitFor(" Item (6 bytes): item-1", timeout: 20)
        try tmux.keys("End")
        try tmux.waitFor(" Item (6 bytes): item-3", orAnyOf: ["q quit  ? help  s sort"], timeout: 10)
        #expect(try tmux.screen().contains("3 held"), "the view is still open")
        try tmux.keys("Home")
        try tmux.waitFor(" Item (6 bytes): item-1", orAnyOf: ["q quit  ? help  s sort"], timeout: 10)
        // Esc alone still closes the view.
        try tmux.keys("Escape")
        try tmux.waitFor("q quit  ? help  s sort", timeout: 10)
        try waitUntil("the dead letters back") { try s.counts(s.failedQueue)?.ready == 3 }
    }

    @Test("the view's connection answers heartbeats between samples: with --interval 10 and --heartbeat 2 the dead letters stay held")
    func heldAcrossALongInterval() throws {
        let s = try deadLetters(2, "dead-beat")
        let tmux = s.tmux("wqtop-dlh")
        try tmux.start(tool: "wqtop", ["--interval", "10", "--heartbeat", "2"], environment: s.environment.merging(Tmux.terminal) { $1 })
        // Its first frame comes after the 10 s interval: the key goes as soon as wqtop reads keys.
        try tmux.waitForKeyboard()
        try tmux.keys("f")
        try waitUntil("the view holds both", timeout: 20) { try s.counts(s.failedQueue)?.ready == 0 }
        // The scenario: two heartbeats missed (4 s) close a connection; 10 s pass before the next sample.
        Thread.sleep(forTimeInterval: 9)
        #expect(try s.counts(s.failedQueue)?.ready == 0, "the broker closed the view's connection and took its dead letters back")
        let screen = try tmux.waitFor("2 held", timeout: 10)
        #expect(!screen.contains("the connection holding the dead letters failed"), "\(screen)")
    }
}
