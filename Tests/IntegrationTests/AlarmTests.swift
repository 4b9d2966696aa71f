import Foundation
import TestSupport
import Testing

/// A broker resource alarm (low on disk): RabbitMQ blocks every connection that publishes.
@Suite("A broker resource alarm", .serialized)
struct AlarmTests {
    @Test("a disk alarm: processors started during it drain and acknowledge, a retry waits and says so, the loader waits and finishes exact, wqtop shows the alarm")
    func diskAlarm() throws {
        let s = try Scenario("alarm")
        let before = (1...200).map { "before-\($0)" }
        try s.load(["fail-once"] + before)
        defer { try? BrokerControl.ctl(["set_disk_free_limit", "50MB"]) }
        try BrokerControl.ctl(["set_disk_free_limit", "100000GB"])
        let monitor = try s.start("wqtop", ["--json", "--interval", "0.3"])
        let load = try s.start("loader", ["--count", "300"])
        let work = #"if [ "$1" = fail-once ] && [ ! -e "$OUT/failed" ]; then touch "$OUT/failed"; exit 1; fi; echo "$1" >> "$OUT/done""#
        let processors = try s.startProcessors(2, Scenario.shell(work))
        // Started during the alarm, the processors drain what was loaded before it.
        try waitUntil("every item loaded before the alarm done", timeout: 30) { Set(s.done).isSuperset(of: Set(before)) }
        try waitUntil("a processor to say the broker blocks publishing", timeout: 15) {
            processors.contains { $0.collected().contains("the broker blocks publishing (connection.blocked: low on disk)") }
        }
        #expect(processors.allSatisfy { $0.isRunning }, "a processor exited while its retry waited")
        try load.waitForOutput("the broker blocks publishing (connection.blocked: low on disk)", timeout: 15)
        #expect(load.isRunning)
        try monitor.waitForOutput(#""alarm":"low on disk""#, timeout: 15)
        try BrokerControl.ctl(["set_disk_free_limit", "50MB"])
        let loaded = try load.wait(timeout: 60)
        #expect(loaded.status == 0, "\(loaded.output)")
        #expect(loaded.stderr.contains("loaded 300 items in"), "\(loaded.stderr)")
        #expect(loaded.stderr.contains("the broker accepts publishing again"), "\(loaded.stderr)")
        for r in try finish(processors, timeout: 60) { #expect(r.result.status == 0, "\(r.result.output)") }
        #expect(Set(s.done) == Set(before + ["fail-once"] + (0..<300).map(String.init)))
        try waitUntil("wqtop to show the alarm gone", timeout: 15) { monitor.collected().split(separator: "\n").last?.contains(#""alarm""#) == false }
        monitor.signal(SIGTERM)
        _ = try? monitor.wait(timeout: 10)
    }
}
