import Foundation
import Core
import TestSupport
import Testing

/// The fields of one `wqtop --json` line that tell how far the loads are done.
private struct PercentLine: Decodable {
    var finished: Bool
    var processed: Int
    var loaded_total: Int?
    var percent_done: Double?
}

@Suite("Percent done: the loader's load events in wqtop, against a real RabbitMQ", .serialized)
struct LoadProgressTests {
    @Test("loader loads 300 items, processors drain: wqtop --json ends with loaded_total 300 and percent_done 100")
    func percentDoneAfterADrain() throws {
        let s = try Scenario("percent")
        // wqtop first: load events are transient and reach only readers bound at the time.
        let monitor = try s.start("wqtop", ["--json", "--exit-when-drained", "--interval", "0.3"])
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        let load = try s.run("loader", ["--count", "300", "--quiet"])
        #expect(load.status == 0, "\(load.output)")
        #expect(!load.stderr.contains("load events are off"), "\(load.stderr)")
        let processors = try s.startProcessors(2, ["--quiet", "--", "true"], pods: "pod-")
        for result in try processors.map({ try $0.wait(timeout: 120) }) { #expect(result.status == 0, "\(result.output)") }
        let end = try monitor.wait(timeout: 30)
        #expect(end.status == 0, "\(end.output)")
        let lines = try end.stdout.split(separator: "\n").map { try JSONDecoder().decode(PercentLine.self, from: Data($0.utf8)) }
        let last = try #require(lines.last)
        #expect(last.finished && last.processed == 300)
        #expect(last.loaded_total == 300 && last.percent_done == 100, "\(end.stdout.split(separator: "\n").last ?? "")")
        #expect(lines.first?.loaded_total == nil && lines.first?.percent_done == nil, "null before the load event")
        #expect(end.stdout.contains(#""bad_events":0,"#) && !end.stdout.contains(#""bad_events":1"#))
    }

    @Test("a refused progress exchange costs the loader one warning line; every item is still loaded")
    func refusedExchange() throws {
        let s = try Scenario("percent-refused")
        // Names starting with amq. are reserved: the broker refuses to declare them.
        let result = try s.run("loader", ["--count", "50", "--quiet", "--progress-exchange", "amq.wq-refused"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.components(separatedBy: "load events are off on this connection").count == 2, "\(result.stderr)")
        #expect(result.stderr.contains("loaded 50 items"))
        #expect(try s.counts()?.ready == 50)
    }
}
