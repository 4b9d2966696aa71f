import Foundation
import TestSupport
import Testing

@Suite("The benchmark script")
struct BenchmarkScriptTests {
    /// bench/run installs what is missing for a person who runs it: Debian packages through
    /// scripts/install-deps (apt-get), pika through pip into .build-tools/venv, and a broker of its
    /// own when none answers on BENCH_PORT. A test never installs or starts anything: it checks
    /// each of those first and fails saying what is missing.
    func checkNothingToInstall() throws {
        let root = Executables.packageRoot.path
        let deps = try String(contentsOfFile: root + "/scripts/install-deps", encoding: .utf8)
        guard let list = deps.split(separator: "\n").first(where: { $0.hasPrefix("packages=(") }) else {
            throw TestFailure("scripts/install-deps has no packages=(...) line to check")
        }
        let packages = list.dropFirst("packages=(".count).prefix { $0 != ")" }.split(separator: " ").map(String.init)
        let missing = try packages.filter { package in
            try Command("dpkg-query", ["-W", "-f=${Status}", package]).run().stdout.contains("install ok installed") == false
        }
        guard missing.isEmpty else {
            throw TestFailure("bench/run would apt-get install \(missing.joined(separator: " ")); install them first (scripts/install-deps)")
        }
        let python = root + "/.build-tools/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python), try Command(python, ["-c", "import pika"]).run().status == 0 else {
            throw TestFailure("bench/run would pip install pika into \(root)/.build-tools/venv; run scripts/test (or bench/run once) first")
        }
        // bench/run starts a broker of its own when none answers on BENCH_PORT.
        try TestBroker.connect(queue: "bench-check").close()
    }

    @Test("bench/run --quick measures every figure against its baseline and prints the table")
    func quickBenchmark() throws {
        try checkNothingToInstall()
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
            script, ["--quick", "--bin", Executables.binDirectory.path, "--output", output],
            adding: ["BENCH_PORT": String(TestBroker.port), "PATH": shims + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")],
            timeout: 600
        ).run()
        #expect(!result.output.contains("tests never install anything"), "\(result.output)")
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
