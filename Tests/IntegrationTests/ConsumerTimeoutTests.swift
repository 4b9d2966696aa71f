import Foundation
import TestSupport
import Testing
import Core

/// The broker's consumer_timeout, shortened on the test broker for the test: RabbitMQ closes a
/// channel whose delivery stays unacknowledged longer, checked on the channel's tick.
@Suite("The broker's consumer_timeout", .serialized)
struct ConsumerTimeoutTests {
    /// 5 s, checked every second; channels opened meanwhile keep them (restored after the test).
    /// The last value is RabbitMQ 3.10's default, put back if a run killed midway left the short one.
    static let shortTimeout: [(key: String, value: String, rabbitDefault: String)] = [
        ("consumer_timeout", "5000", "1800000"), ("channel_tick_interval", "1000", "60000"),
    ]

    /// The one line a processor says when the broker first closes its channel for the timeout.
    static let explained = "the broker closed the work channel: an item stayed unacknowledged past its consumer_timeout (5000 ms)"

    func deadLetterReason(_ s: Scenario) throws -> (bodies: [String], reason: String?) {
        let dead = try s.drain(s.failedQueue)
        var reason: String?
        if case .string(let text) = dead.first?.headers["x-failure-reason"] { reason = text }
        return (dead.map { String(decoding: $0.body, as: UTF8.self) }, reason)
    }

    @Test("one 12 s item among 50 under a 5 s consumer_timeout: learned from the broker, the item is dead-lettered with that reason, the 49 others done, said once per processor, its work stopped, exit 0",
        // Quorum here (redeliveries counted by x-delivery-count); the classic default is the case below.
        arguments: [QueueType.quorum])
    func learnedFromTheBroker(type: QueueType) throws {
        let s = try Scenario("ctimeout", type: type)
        try BrokerControl.withRabbitSettings(Self.shortTimeout) {
            let quick = (1...49).map { "item-\($0)" }
            try s.load(["long"] + quick)
            // "long" would write $OUT/long-ended after 12 s: it must never get there.
            let work = #"if [ "$1" = long ]; then echo $$ >> "$OUT/long-pids"; sleep 12; echo "$1" >> "$OUT/long-ended"; fi; echo "$1" >> "$OUT/done""#
            let started = Date()
            let processors = try s.startProcessors(2, ["--quiet"] + Scenario.shell(work))
            let results = try finish(processors, timeout: 90)
            let took = Date().timeIntervalSince(started)
            for r in results { #expect(r.result.status == 0, "\(r.result.output)") }
            #expect(Set(s.done) == Set(quick), "\(results.map(\.result.stderr))")
            #expect(s.lines("long-ended").isEmpty, "a run of the long item went on to its end: its result could never be acknowledged")
            let (bodies, reason) = try deadLetterReason(s)
            #expect(bodies == ["long"])
            #expect(reason?.hasPrefix("exceeded the broker's consumer_timeout (5000 ms); raise consumer_timeout on the broker") == true, "\(reason ?? "no reason")")
            #expect(reason?.contains("--item-timeout") == true && reason?.contains("out of memory") == false)
            let said = results.map { $0.result.stderr.components(separatedBy: Self.explained).count - 1 }
            #expect(said.allSatisfy { $0 <= 1 } && said.reduce(0, +) >= 1, "the explanation is said once per processor: \(said)")
            for pid in s.lines("long-pids").compactMap(Int32.init) {
                #expect(try processGroupGone(pid), "a run of the long item outlived its channel")
            }
            // 3 attempts: at most two closes by the broker (5-6 s each) and one stop at 4 s.
            #expect(took < 45, "took \(took) s")
        }
    }

    @Test("given up front (--consumer-timeout 5000): the item is stopped 1 s before the broker's deadline on every attempt, the broker never closes a channel, and waiting items go back to the queue in time")
    func givenUpFront() throws {
        let s = try Scenario("ctgiven", environment: ["WORK_QUEUE_CONSUMER_TIMEOUT": "5000"])
        try BrokerControl.withRabbitSettings(Self.shortTimeout) {
            let short = (1...8).map { "short-\($0)" }
            try s.load(["long"] + short)
            // With --prefetch 9 and one slot, the short items wait behind "long" for 4 s: past the
            // point where they are returned (3 s), before the broker would take them (5 s).
            let work = #"if [ "$1" = long ]; then sleep 12; echo "$1" >> "$OUT/long-ended"; else sleep 0.2; fi; echo "$1" >> "$OUT/done""#
            let started = Date()
            let result = try s.run("processor", ["--prefetch", "9"] + Scenario.shell(work), timeout: 90)
            let took = Date().timeIntervalSince(started)
            #expect(result.status == 0, "\(result.output)")
            #expect(Set(s.done) == Set(short), "\(result.stderr)")
            #expect(s.lines("long-ended").isEmpty)
            #expect(!result.stderr.contains("the broker closed the work channel") && !result.stderr.contains("connection lost"), "\(result.stderr)")
            #expect(result.stderr.contains("returned to the queue (no attempt spent)"), "\(result.stderr)")
            let (bodies, reason) = try deadLetterReason(s)
            #expect(bodies == ["long"])
            #expect(reason?.hasPrefix("exceeded the broker's consumer_timeout (5000 ms)") == true, "\(reason ?? "no reason")")
            #expect(took < 30, "took \(took) s")
        }
    }
}

extension BrokerControl {
    /// Evaluates an Erlang expression on the test broker; returns what it printed.
    static func eval(_ expression: String) throws -> String {
        let name = ProcessInfo.processInfo.environment["BROKER_NAME"] ?? "wq-test"
        let result = try Command(
            Executables.packageRoot.appendingPathComponent("scripts/broker").path, ["ctl", "eval", expression],
            adding: ["BROKER_PORT": String(TestBroker.port), "BROKER_NAME": name]
        ).run()
        guard result.status == 0 else { throw TestFailure("rabbitmqctl eval \(expression) failed (exit \(result.status)): \(result.output)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Sets settings of the `rabbit` application (values as Erlang terms) for `body`, then puts
    /// back what was there before (RabbitMQ's default when that was the test's own value, left
    /// by a run killed midway; unset when there was none), even when `body` throws. Only channels
    /// opened meanwhile see them; the suite runs one test at a time (`--no-parallel`).
    static func withRabbitSettings(
        _ settings: [(key: String, value: String, rabbitDefault: String)], _ body: () throws -> Void
    ) throws {
        var restore: [String] = []
        for (key, value, rabbitDefault) in settings {
            let before = try eval("application:get_env(rabbit, \(key)).")
            // "{ok,1800000}" or "undefined".
            if before.hasPrefix("{ok,"), before.hasSuffix("}") {
                let old = String(before.dropFirst(4).dropLast())
                restore.append("application:set_env(rabbit, \(key), \(old == value ? rabbitDefault : old))")
            } else {
                restore.append("application:unset_env(rabbit, \(key))")
            }
        }
        _ = try eval(settings.map { "application:set_env(rabbit, \($0.key), \($0.value))" }.joined(separator: ", ") + ".")
        defer { _ = try? eval(restore.joined(separator: ", ") + ".") }
        try body()
    }
}
