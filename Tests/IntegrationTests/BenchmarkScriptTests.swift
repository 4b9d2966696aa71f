import Foundation
import TestSupport
import Testing

@Suite("The benchmark script")
struct BenchmarkScriptTests {
    /// bench/run installs what is missing for a person who runs it (Debian packages, pika) and
    /// starts a broker of its own when none answers on BENCH_PORT. A test installs and starts
    /// nothing: `--no-install` makes bench/run fail at once on a missing tool, installers in PATH
    /// fail loudly, and the test broker must answer first.
    @Test("bench/run --quick measures every figure against its baseline and prints the table")
    func quickBenchmark() throws {
        try TestBroker.connect(queue: "bench-check").close()
        // The shards section runs on the cluster suite's 3-node cluster, every node up (a fault
        // test before may have left one down: `start` brings back any that is not running).
        try TestCluster.control(["start"])
        let dir = try TempDir()
        // Installers that fail loudly, first in PATH, in case bench/run reaches for one anyway.
        let shims = dir.path + "/no-installs"
        try FileManager.default.createDirectory(atPath: shims, withIntermediateDirectories: true)
        for installer in ["apt-get", "apt", "sudo", "pip", "pip3"] {
            let path = shims + "/" + installer
            try "#!/bin/sh\necho \"a test ran $0 $*: tests never install anything\" >&2\nexit 97\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let output = dir.path + "/BENCHMARKS.md"
        let script = Executables.packageRoot.appendingPathComponent("bench/run").path
        let result = try Command(
            script, ["--quick", "--no-install", "--bin", Executables.binDirectory.path, "--output", output],
            adding: [
                "BENCH_PORT": String(TestBroker.port), "BENCH_CLUSTER_PORTS": TestCluster.ports.map(String.init).joined(separator: ","),
                "PATH": shims + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")],
            timeout: 600
        ).run()
        #expect(!result.output.contains("tests never install anything"), "\(result.output)")
        #expect(result.status == 0, "\(result.output)")
        let table = try String(contentsOfFile: output, encoding: .utf8)
        for row in [
            "| load, persistent | loader --count 2000 (confirmed) |", "pika, confirm_delivery", "amqp-publish -l -p",
            "| drain, no-op work |", "5 x pika basic_get loop", "5 x pika basic_consume",
            "| load, persistent, quorum queue |", "| drain, no-op work, quorum queue |",
            "| scale | loader --count 20,000: peak memory |", "items of 1 MB",
            "| scale | 20 processors drain 20,000, start included: items/s |", "| scale | 20 processors drain 20,000, once all consume: items/s |",
            "| scale | 20 processors up before the load drain 20,000: items/s |",
            "| scale | 20 processors up before the load: the broker's CPU per item, us |",
            "| scale | 20 processors: seconds from the queue's ready count 0 to the last exit |",
            "| scale | 20 processors start: seconds until all consume |", "| scale | 20 processors start: CPU per start, ms (broker; its own) |",
            "| scale | 20 idle processors: broker CPU per processor, ms per s |", "| scale | 20 idle processors: memory of one, MB: Pss (VmRSS, VmHWM) |",
            "pods' events at 1 Hz | CPU of one core |",
            "| wqtop --serve, 1,000 pods' events at 1 Hz, scraped every 1 s | CPU of one core |",
            "| wqtop --serve, 1,000 pods' events at 1 Hz, scraped every 1 s | resident memory (VmHWM) |",
            "scrape latency p50 (max)",
            "| progress events' cost |", "| command per item |", "amqp-consume", "the spawn ceiling: posix_spawn + waitpid of cat in a C loop",
            "| command per item, next started ahead | processor --spawn-ahead --prefetch 10 -- cat |",
            "the spawn ceiling, next started ahead",
            "| command per item, 2 at once (2 cores) | processor --concurrency 2", "2 x amqp-consume", "| python work per item |",
            "| --concurrency, sleep 0.05 per item | --concurrency 8 |", "| exit after the last item |",
            "| wqtop, 20 processors at 1 Hz | CPU of one core |",
            "RabbitMQ 3.", " cores (", "Fixed cost of each command",
            "### Shards", "| one node | classic | 4 |", "| one node | quorum | 4 |", "| 3-node cluster | quorum | 4 |",
        ] {
            #expect(table.contains(row), "missing \(row) in:\n\(table)")
        }
        // Every measured row has a ratio, and none is zero (a broken run would be).
        let ratios = table.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains("x |") }
        #expect(ratios.count >= 10)
        #expect(!ratios.contains { $0.contains("| 0.00x |") }, "\(ratios.filter { $0.contains("| 0.00x |") })")
    }
}
