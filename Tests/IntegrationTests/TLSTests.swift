import Foundation
import TestSupport
import Testing

@Suite("amqps:// connects with TLS and verifies the broker by default", .serialized)
struct TLSTests {
    var tlsPort: String { ProcessInfo.processInfo.environment["WQ_TEST_TLS_PORT"] ?? "5680" }
    var caPath: String {
        ProcessInfo.processInfo.environment["WQ_TEST_CA"] ?? Executables.packageRoot.appendingPathComponent(".broker/wq-test/tls/ca.pem").path
    }

    @Test("with --cacert the load and drain go over TLS; without it verification fails (69); --insecure skips it")
    func tls() throws {
        guard FileManager.default.fileExists(atPath: caPath) else {
            throw TestFailure("no test CA at \(caPath): run the tests with scripts/test, which starts the broker with TLS")
        }
        let s = try Scenario("tls")
        let env = ["WORK_QUEUE_URL": "amqps://guest:guest@localhost:\(tlsPort)/", "WORK_QUEUE_NAME": s.queue]
        let verified = try Executables.run("loader", ["--cacert", caPath, "--count", "10"], environment: env)
        #expect(verified.status == 0, "\(verified.output)")
        let unverified = try Executables.run("loader", ["x"], environment: env)
        #expect(unverified.status == 69, "\(unverified.output)")
        #expect(unverified.stderr.contains("TLS with localhost:\(tlsPort) failed"))
        #expect(!unverified.output.contains("guest:guest"))
        let insecure = try Executables.run("loader", ["--insecure", "y"], environment: env)
        #expect(insecure.status == 0, "\(insecure.output)")
        let drained = try Executables.run("processor", ["--cacert", caPath], environment: env)
        #expect(drained.status == 0, "\(drained.output)")
        #expect(drained.stderr.contains("processed all work: 11 items"))
    }
}
