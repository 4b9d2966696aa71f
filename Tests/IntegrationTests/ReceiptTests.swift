import Foundation
import Core
import TestSupport
import Testing

/// The fields of `wqtop --receipt` that the reconciliation test reads.
private struct ReceiptFields: Decodable {
    struct Pod: Decodable {
        var pod: String
        var state: String
        var lost: Bool
        var processed: Int
        var retried: Int
        var dead_lettered: Int
    }
    struct Reconciliation: Decodable {
        var loaded: Int?
        var counted: Int
        var repeats: Int
        var accounted: Int
        var difference: Int?
        var exact: Bool
        var doubts: [String]
        /// null when not exact.
        var balanced: Bool?
        var explanation: String
    }
    var v: Int
    var queue: String
    var finished: Bool
    var ended_by: String
    var loaded: Int?
    var processed: Int
    var dead_lettered: Int
    var retried: Int
    var failed_attempts: Int
    var queued: Int
    var dead_letter_queue_depth: Int?
    /// With shards only: each work queue at the end.
    var shards: [Shard]?
    struct Shard: Decodable, Equatable {
        var queue: String
        var ready: Int?
    }
    var pods: [Pod]
    var reconciliation: Reconciliation
}

/// What a scripted Job's steps can do while the processors drain.
private struct JobContext {
    let queue: String
    let doneFile: String
    /// While it exists, every item's command waits.
    let gateFile: String
    let startProcessor: (String) throws -> RunningCommand
    /// wqtop's --json output so far.
    let monitorOutput: () -> String

    /// Items done so far (good ones, each line one run).
    var done: Int { lines(doneFile).count }

    func waitForDone(_ count: Int) throws {
        try waitUntil("\(count) items done", timeout: 90) { done >= count }
    }

    /// Holds every command (`true`) or lets them go on.
    func gate(_ closed: Bool) throws {
        if closed {
            try "".write(toFile: gateFile, atomically: true, encoding: .utf8)
        } else {
            try FileManager.default.removeItem(atPath: gateFile)
        }
    }

    /// Waits until wqtop shows a frame connected again after one disconnected.
    func waitForMonitorBack() throws {
        try waitUntil("wqtop to listen again", timeout: 30) {
            let text = monitorOutput()
            guard let down = text.range(of: "\"connected\":false") else { return false }
            return text[down.upperBound...].contains("\"connected\":true")
        }
    }

    /// Waits until wqtop's latest frame has an event of each of `pods` sent at or after `time`
    /// (Unix seconds): they reconnected after a restart and wqtop heard them.
    func waitForPodsHeard(_ pods: Set<String>, since time: Double) throws {
        try waitUntil("\(pods.sorted()) heard again", timeout: 60) {
            guard let line = monitorOutput().split(separator: "\n").last,
                let frame = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let entries = frame["pods"] as? [[String: Any]]
            else { return false }
            let heard = entries.filter { (($0["last_seen_at"] as? Double) ?? 0) >= time }.compactMap { $0["pod"] as? String }
            return pods.isSubset(of: heard)
        }
    }
}

/// A Job against the test broker: wqtop (with `--receipt`) first, then a load of `items` (every
/// tenth one `bad-N`, which always fails with --max-attempts 2), then processors `pod-1`... that
/// drain while `steps` runs; `steps` gets them and returns those that must end with exit 0.
/// Returns the receipt's fields and its text.
private func runJob(
    type: QueueType, items count: Int = 300, processors: Int = 3, shards: Int = 1,
    steps: (JobContext, [RunningCommand]) throws -> [RunningCommand]
) throws -> (ReceiptFields, String) {
    let s = try Scenario("receipt", type: type, shards: shards)
    let receiptPath = s.path("receipt.json")
    // wqtop first: load events are transient and reach only readers bound at the time.
    let monitor = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.3", "--receipt", receiptPath], timeout: 240)
    try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
    try s.load(["--quiet"] + (0..<count).map { $0 % 10 == 0 ? "bad-\($0)" : "good-\($0)" })
    // While $OUT/gate exists every command waits (the processors hold their items and keep sending events).
    let work = #"while [ -e "$OUT/gate" ]; do sleep 0.05; done; case "$WORK_ITEM" in bad*) exit 3;; esac; sleep 0.02; echo "$WORK_ITEM" >> "$OUT/done""#
    let args = ["--quiet", "--max-attempts", "2", "--prefetch", "10", "--", "sh", "-c", work]
    let context = JobContext(
        queue: s.queue, doneFile: s.path("done"), gateFile: s.path("gate"),
        startProcessor: { name in try s.start("processor", args, adding: ["POD_NAME": name], timeout: 240) },
        monitorOutput: { monitor.stdout })
    let first = try (1...processors).map { try context.startProcessor("pod-\($0)") }
    for result in try finish(try steps(context, first), timeout: 180) {
        #expect(result.result.status == 0, "\(result.result.output)")
    }
    let end = try monitor.wait(timeout: 60)
    #expect(end.status == 0, "\(end.stderr)")
    let text = try String(contentsOfFile: receiptPath, encoding: .utf8)
    return (try JSONDecoder().decode(ReceiptFields.self, from: Data(text.utf8)), text)
}

/// Takes `count` items off `queue` as a consumer that sends no events would (then acknowledged):
/// a purge by hand.
private func purge(_ count: Int, from queue: String) throws {
    let connection = try TestBroker.connect(queue: queue)
    defer { connection.close() }
    try connection.setPrefetch(1)
    _ = try connection.consume(queue: queue)
    var taken = 0
    while taken < count, let event = try connection.nextEvent(timeout: .seconds(10)) {
        guard case .delivery(let delivery) = event else { continue }
        try connection.ack(delivery.tag)
        taken += 1
    }
    guard taken == count else { throw TestFailure("purged only \(taken) of \(count) items") }
}

@Suite("The receipt against a real RabbitMQ: exact after retries, dead letters, kill -9 and a broker restart; a purge shows", .serialized)
struct ReceiptTests {
    @Test("chaos: 300 items, 30 always failing, 3 processors; two killed -9 and replaced, the broker restarted once: balanced, difference 0, exact",
        arguments: QueueType.allCases)
    func exactAfterChaos(type: QueueType) throws {
        let (receipt, text) = try runJob(type: type) { job, first in
            var running = first
            try job.waitForDone(70)
            running[0].signal(SIGKILL)
            _ = try running[0].wait(timeout: 10)
            running.append(try job.startProcessor("pod-4"))
            try job.waitForDone(120)
            // The broker away for 3 s: every connection lost, wqtop's own queue of events too.
            // Meanwhile the commands wait: a survivor that reconnects before wqtop listens again
            // (processors back off up to 8 s, wqtop at most 1 s) must not finish the work and
            // exit unheard (a processor that runs only while wqtop is not listening is not
            // counted: the receipt then says it is not exact, as documented).
            try job.gate(true)
            try BrokerControl.whileStopped { usleep(3_000_000) }
            let back = Date().timeIntervalSince1970
            try job.waitForMonitorBack()
            // Reconnected, the survivors send an event a second while they wait: heard, then on.
            try job.waitForPodsHeard(["pod-3", "pod-4"], since: back)
            try job.gate(false)
            try job.waitForDone(180)
            running[1].signal(SIGKILL)
            _ = try running[1].wait(timeout: 10)
            running.append(try job.startProcessor("pod-5"))
            return Array(running[2...])
        }
        print("receipt chaos \(type): counted \(receipt.reconciliation.counted), repeats \(receipt.reconciliation.repeats), difference \(receipt.reconciliation.difference.map(String.init) ?? "null"), exact \(receipt.reconciliation.exact), balanced \(receipt.reconciliation.balanced.map(String.init) ?? "null")")
        #expect(receipt.v == 2 && receipt.finished && receipt.ended_by == "drained", "\(text)")
        #expect(receipt.loaded == 300, "\(text)")
        // The one case the notes cannot cover (docs/receipt.md, "What it cannot see"): the restart lost
        // acknowledgements the broker had taken from a processor killed before it reconnected.
        // The receipt must then say it is not exact, never claim an unbalanced exact count.
        let unheard = receipt.reconciliation.doubts.contains { $0.contains("were not heard after it") || $0.contains("still named unsettled") }
        if unheard && (receipt.reconciliation.difference ?? 0) > 0 {
            print("receipt chaos \(type): not exact, a pod killed during the restart or a message handed out again unflagged (documented limits)")
            #expect(receipt.reconciliation.balanced == nil, "not exact: neither balanced nor unbalanced: \(text)")
        } else {
            #expect(receipt.reconciliation.exact, "\(text)")
            #expect(receipt.reconciliation.difference == 0, "\(text)")
            #expect(receipt.reconciliation.balanced == true, "\(text)")
        }
        #expect(receipt.reconciliation.accounted == receipt.reconciliation.counted - receipt.reconciliation.repeats)
        // Present whenever the broker was reachable at the end; a kill between a dead letter's
        // confirm and its count leaves a copy there that is counted once.
        #expect((receipt.dead_letter_queue_depth ?? -1) >= receipt.dead_lettered, "\(text)")
        // A survivor still in its reconnect backoff when the replacement finished the work looks lost too.
        #expect(Set(receipt.pods.filter(\.lost).map(\.pod)).isSuperset(of: ["pod-1", "pod-2"]), "\(text)")
    }

    @Test("a broker restart while items flow (3 processors, nothing held): the receipt is exact only when it balances")
    func restartWhileItemsFlow() throws {
        let (receipt, text) = try runJob(type: .classic, items: 1500) { job, running in
            try job.waitForDone(150)
            // Acknowledgements in flight when the broker stops can be lost, and classic queues hand
            // some of those messages out again without the redelivered flag.
            try BrokerControl.whileStopped { usleep(1_000_000) }
            return running
        }
        let r = receipt.reconciliation
        print("receipt restart: counted \(r.counted), repeats \(r.repeats), difference \(r.difference.map(String.init) ?? "null"), exact \(r.exact), doubts \(r.doubts)")
        #expect(receipt.finished && receipt.loaded == 1500, "\(text)")
        if r.exact {
            #expect(r.difference == 0 && r.balanced == true, "exact must mean balanced here: nothing was lost \(text)")
        } else {
            #expect(r.balanced == nil && !r.doubts.isEmpty && (r.difference ?? 0) >= 0, "\(text)")
        }
    }

    @Test("3 items purged by hand mid-drain: unbalanced by exactly 3, exact", arguments: QueueType.allCases)
    func purgedItems(type: QueueType) throws {
        let (receipt, text) = try runJob(type: type, processors: 2) { job, running in
            try job.waitForDone(60)
            try purge(3, from: job.queue)
            return running
        }
        #expect(receipt.finished && receipt.loaded == 300, "\(text)")
        #expect(receipt.reconciliation.exact, "\(text)")
        #expect(receipt.reconciliation.difference == -3, "\(text)")
        #expect(receipt.reconciliation.balanced == false, "\(text)")
        #expect(receipt.reconciliation.explanation.contains("3 items unaccounted for"), "\(text)")
        #expect(receipt.dead_letter_queue_depth != nil, "\(text)")
    }

    @Test("3 shards, 3 processors, one killed -9 and replaced, 3 items purged from one shard: the receipt adds the shards up, unbalanced by exactly 3, exact")
    func exactOverShards() throws {
        let (receipt, text) = try runJob(type: .classic, shards: 3) { job, first in
            var running = first
            try job.waitForDone(60)
            running[0].signal(SIGKILL)
            _ = try running[0].wait(timeout: 10)
            try purge(3, from: job.queue + ".1")
            running.append(try job.startProcessor("pod-4"))
            return Array(running[1...])
        }
        #expect(receipt.finished && receipt.ended_by == "drained" && receipt.loaded == 300, "\(text)")
        #expect(receipt.shards == (0..<3).map { ReceiptFields.Shard(queue: "\(receipt.queue).\($0)", ready: 0) }, "\(text)")
        #expect(receipt.queued == 0, "\(text)")
        // The one QUEUE.failed holds the bad items (those purged excepted: 27 to 30).
        #expect((27...30).contains(receipt.dead_letter_queue_depth ?? -1), "\(text)")
        #expect(receipt.reconciliation.exact, "\(text)")
        #expect(receipt.reconciliation.difference == -3, "\(text)")
        #expect(receipt.reconciliation.explanation.contains("3 items unaccounted for"), "\(text)")
    }

    @Test("the loader gives each item a message_id of its own (the load's id and the item's number), so equal bytes stay apart")
    func loaderSetsMessageIDs() throws {
        let s = try Scenario("message-id")
        try s.load(["--quiet", "same", "same", "other"])
        let ids = try s.drain().compactMap(\.properties.messageID)
        #expect(ids.count == 3 && Set(ids).count == 3, "\(ids)")
        #expect(ids.map { $0.split(separator: "-").last.map(String.init) } == ["1", "2", "3"], "\(ids)")
        #expect(Set(ids.map { $0.split(separator: "-").dropLast().joined(separator: "-") }).count == 1, "one load id: \(ids)")
    }

    @Test("a receipt ended by SIGTERM keeps the dead-letter depth of the last sample (it was null)")
    func deadLetterDepthOnSignal() throws {
        let s = try Scenario("receipt-signal")
        try s.load(["--quiet", "a", "b", "c"])
        let drain = try s.run("processor", ["--quiet", "--max-attempts", "1", "--", "sh", "-c", "test \"$WORK_ITEM\" = c"])
        #expect(drain.status == 0, "\(drain.output)")
        let receiptPath = s.path("receipt.json")
        let monitor = try s.start("wqtop", ["--json", "--interval", "0.3", "--receipt", receiptPath])
        try waitUntil("two frames") { monitor.stdout.split(separator: "\n").count >= 2 }
        monitor.signal(SIGTERM)
        #expect(try monitor.wait(timeout: 10).status == 143)
        let text = try String(contentsOfFile: receiptPath, encoding: .utf8)
        let receipt = try JSONDecoder().decode(ReceiptFields.self, from: Data(text.utf8))
        #expect(receipt.ended_by == "SIGTERM", "\(text)")
        #expect(receipt.dead_letter_queue_depth == 2, "\(text)")
    }

    @Test("a count repeated by a real redelivery is taken out: a pod that counted an item and died, the item redelivered to a processor",
        arguments: QueueType.allCases)
    func realRepeatTakenOut(type: QueueType) throws {
        let s = try Scenario("receipt-repeat", type: type)
        let queue = s.queue
        let receiptPath = s.path("receipt.json")
        let monitor = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.3", "--receipt", receiptPath], timeout: 60)
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        try s.load(["--quiet", "--count", "20"])
        // A pod that took the first item, counted it in an event naming it unsettled, and died
        // before the broker had its ack: played by this test's own connection.
        let ghost = try s.connect(type: type)
        try ghost.setPrefetch(1)
        _ = try ghost.consume(queue: queue)
        guard case .delivery(let taken) = try #require(try ghost.nextEvent(timeout: .seconds(5))) else {
            Issue.record("no delivery")
            return
        }
        try ghost.declareFanoutExchange(queue + ".progress")
        let now = Date().timeIntervalSince1970
        var event = ProgressEvent(
            queue: queue, pod: "ghost", instance: "dead", state: .working, processed: 1, inHand: 1, startedAt: now - 1, sentAt: now)
        event.unsettled = [ItemKey.hex(ItemKey.of(taken))]
        try ghost.publishTransient(exchange: queue + ".progress", body: event.encoded())
        ghost.close()  // the item goes back, redelivered
        let drain = try s.run("processor", ["--quiet"])
        #expect(drain.status == 0, "\(drain.output)")
        #expect(try monitor.wait(timeout: 30).status == 0)
        let text = try String(contentsOfFile: receiptPath, encoding: .utf8)
        let receipt = try JSONDecoder().decode(ReceiptFields.self, from: Data(text.utf8))
        #expect(receipt.reconciliation.counted == 21, "\(text)")
        #expect(receipt.reconciliation.repeats == 1, "\(text)")
        #expect(receipt.reconciliation.difference == 0 && receipt.reconciliation.exact && receipt.reconciliation.balanced == true, "\(text)")
    }
}
