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
        var accounted: Int
        var difference: Int?
        var balanced: Bool
        var explanation: String
    }
    var v: Int
    var finished: Bool
    var ended_by: String
    var loaded: Int?
    var processed: Int
    var dead_lettered: Int
    var retried: Int
    var failed_attempts: Int
    var queued: Int
    var dead_letter_queue_depth: Int?
    var pods: [Pod]
    var reconciliation: Reconciliation
}

@Suite("The receipt against a real RabbitMQ: the numbers add up after retries, dead letters and kill -9", .serialized)
struct ReceiptTests {
    @Test("300 items, 30 that always fail, 3 processors of which two are killed -9 and replaced: nothing unaccounted for",
        arguments: QueueType.allCases, 1...3)
    func numbersAddUpAfterKills(type: QueueType, run: Int) throws {
        let queue = TestBroker.uniqueQueue("receipt")
        defer { TestBroker.cleanUp(queue) }
        let dir = try TempDir()
        let env = TestBroker.environment(queue: queue, extra: ["OUT": dir.path, "WORK_QUEUE_TYPE": type.rawValue])
        let receiptPath = dir.path + "/receipt.json"
        // wqtop first: load events are transient and reach only readers bound at the time.
        let monitor = try Executables.start(
            "wqtop", ["--json", "--exit-when-drained", "--interval", "0.3", "--receipt", receiptPath], environment: env, timeout: 180)
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        let items = (0..<300).map { $0 % 10 == 0 ? "bad-\($0)" : "good-\($0)" }
        let load = try Executables.run("loader", ["--quiet"] + items, environment: env)
        #expect(load.status == 0, "\(load.output)")
        let work = #"case "$WORK_ITEM" in bad*) exit 3;; esac; sleep 0.02; echo "$WORK_ITEM" >> "$OUT/done""#
        let args = ["--quiet", "--max-attempts", "2", "--prefetch", "10", "--", "sh", "-c", work]
        func processor(_ name: String) throws -> RunningCommand {
            try Executables.start("processor", args, environment: env.merging(["POD_NAME": name]) { $1 }, timeout: 180)
        }
        var running = try (1...3).map { try processor("pod-\($0)") }
        // Killed -9 mid-drain, each replaced as a Job would, at a third and at two thirds of the work.
        for (kill, at) in [(0, 80), (1, 160)] {
            try waitUntil("\(at) items done", timeout: 60) { lines(dir.path + "/done").count >= at }
            running[kill].signal(SIGKILL)
            _ = try running[kill].wait(timeout: 10)
            running.append(try processor("pod-\(4 + kill)"))
        }
        for result in try finish(Array(running[2...]), timeout: 120) {
            #expect(result.result.status == 0, "\(result.result.output)")
        }
        let end = try monitor.wait(timeout: 60)
        #expect(end.status == 0, "\(end.stderr)")
        let text = try String(contentsOfFile: receiptPath, encoding: .utf8)
        let receipt = try JSONDecoder().decode(ReceiptFields.self, from: Data(text.utf8))
        #expect(receipt.v == 1 && receipt.finished && receipt.ended_by == "drained", "\(text)")
        #expect(receipt.loaded == 300, "\(text)")
        #expect(receipt.dead_lettered >= 30, "\(text)")
        #expect(receipt.queued == 0, "\(text)")
        // A kill between a dead letter's confirm and its count leaves a copy there that is counted once.
        #expect((receipt.dead_letter_queue_depth ?? -1) >= receipt.dead_lettered, "\(text)")
        let difference = try #require(receipt.reconciliation.difference, "\(text)")
        #expect(difference >= 0, "items unaccounted for after kill -9: \(text)")
        #expect(difference <= 5, "more duplicates than a kill between an event and its acks can make: \(text)")
        #expect(receipt.reconciliation.balanced == (difference == 0))
        let lost = Set(receipt.pods.filter(\.lost).map(\.pod))
        #expect(lost == ["pod-1", "pod-2"], "\(text)")
        #expect(receipt.pods.filter { $0.state == "lost" }.count == 2)
        #expect(receipt.pods.count == 5)
        // A bad item held by a killed processor spends its first attempt by dying, not failing.
        #expect(receipt.retried >= 20 && receipt.failed_attempts >= receipt.dead_lettered + receipt.retried, "\(text)")
    }
}
