import Foundation

/// Drives the test broker with rabbitmqctl through scripts/broker.
package enum BrokerControl {
    package static func ctl(_ arguments: [String]) throws {
        let name = ProcessInfo.processInfo.environment["BROKER_NAME"] ?? "wq-test"
        let result = try Command(
            Executables.packageRoot.appendingPathComponent("scripts/broker").path, ["ctl"] + arguments,
            adding: ["BROKER_PORT": String(TestBroker.port), "BROKER_NAME": name]
        ).run()
        guard result.status == 0 else { throw TestFailure("rabbitmqctl \(arguments) failed (exit \(result.status)): \(result.output)") }
    }

    /// Stops the broker's app, runs `body` and starts it again, even when `body` throws.
    package static func whileStopped(_ body: () throws -> Void) throws {
        try ctl(["stop_app"])
        do {
            try body()
        } catch {
            try? ctl(["start_app"])
            throw error
        }
        try ctl(["start_app"])
    }
}
