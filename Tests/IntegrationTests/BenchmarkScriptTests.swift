import Foundation
import TestSupport
import Testing

@Suite("The benchmark script")
struct BenchmarkScriptTests {
    @Test("bench/run --quick measures every figure against its baseline and prints the table")
    func quickBenchmark() throws {
        let dir = try TempDir()
        let output = dir.path + "/BENCHMARKS.md"
        let script = Executables.packageRoot.appendingPathComponent("bench/run").path
        let result = try ExternalCommand.run(
            script, ["--quick", "--bin", Executables.binDirectory.path, "--output", output],
            environment: ["BENCH_PORT": String(TestBroker.port)])
        #expect(result.status == 0, "\(result.output)")
        let table = try String(contentsOfFile: output, encoding: .utf8)
        for row in [
            "| load, persistent | loader --count 2000 (confirmed) |", "pika, confirm_delivery", "amqp-publish -l -p",
            "| drain, no-op work |", "5 x pika basic_get loop", "5 x pika basic_consume",
            "| progress events' cost |", "| command per item |", "amqp-consume", "| python work per item |",
            "| --concurrency, sleep 0.05 per item | --concurrency 8 |", "| wqtop, 20 processors at 1 Hz | CPU of one core |",
            "RabbitMQ 3.", " cores (", "Fixed cost of each command",
        ] {
            #expect(table.contains(row), "missing \(row) in:\n\(table)")
        }
        // Every measured row has a ratio, and none is zero (a broken run would be).
        let ratios = table.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains("x |") }
        #expect(ratios.count >= 10)
        #expect(!ratios.contains { $0.contains("| 0.00x |") })
    }
}
