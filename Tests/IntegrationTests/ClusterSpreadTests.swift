import Foundation
import TestSupport
import Testing

/// Clients given every node's address spread over the cluster instead of all starting at the first.
@Suite("Clients spread over a 3-node cluster", .serialized)
struct ClusterSpreadTests {
    /// The broker's own word on which port (so which node) each processor connection uses.
    func processorPorts() throws -> [String] {
        let result = try Command(
            Executables.packageRoot.appendingPathComponent("scripts/broker").path, ["ctl", "list_connections", "-q", "port", "name", "client_properties"],
            adding: TestCluster.brokerEnvironment(node: 1)
        ).run()
        guard result.status == 0 else { throw TestFailure("rabbitmqctl list_connections failed: \(result.output)") }
        return result.stdout.split(separator: "\n").filter { $0.contains("processor spread-") }.map { String($0.prefix { $0 != "\t" }) }
    }

    @Test("6 processors of an Indexed Job with 3 addresses use all 3 nodes, and each says where in its first lines")
    func sixProcessorsUseThreeNodes() throws {
        try TestCluster.ensureRunning()
        let s = try Scenario("spread", on: .cluster)
        let processors = try (0..<6).map { i in
            try s.start(
                "processor", ["--wait-for-work", "120", "--", "true"], adding: ["POD_NAME": "spread-\(i)", "JOB_COMPLETION_INDEX": String(i)],
                timeout: 120)
        }
        try waitUntil("every processor connected", timeout: 60) { processors.allSatisfy { $0.stderr.contains("connected to work queue at") } }
        for (i, processor) in processors.enumerated() {
            let port = TestCluster.ports[i % 3]
            #expect(processor.stderr.hasPrefix("connecting to work queue 127.0.0.1 \(port)\nconnected to work queue at 127.0.0.1:\(port) (address \(i % 3 + 1) of 3)"), "\(processor.stderr)")
        }
        let ports = try processorPorts()
        #expect(ports.count == 12, "two connections a processor: \(ports)")
        #expect(Set(ports) == Set(TestCluster.ports.map(String.init)), "\(ports)")
        // Nothing is loaded: SIGTERM ends each at once (143), holding nothing.
        for processor in processors { processor.signal(SIGTERM) }
        for processor in processors {
            let result = try processor.wait(timeout: 30)
            #expect(result.status == 143, "\(result.output)")
        }
    }
}
