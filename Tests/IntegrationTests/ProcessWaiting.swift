import Foundation
import TestSupport

// Waiting on processes and reading files in the integration tests (`waitUntil` is TestSupport's).

/// Waits for `running` processes, noting when each ended; fails naming the first still running
/// after `timeout` seconds (and kills the rest when the handles go).
func finish(_ running: [RunningCommand], timeout: Double = 90) throws -> [(result: CommandResult, endedAt: Date)] {
    var ended: [Int: Date] = [:]
    let deadline = Date().addingTimeInterval(timeout)
    while ended.count < running.count && Date() < deadline {
        for (i, r) in running.enumerated() where ended[i] == nil && !r.isRunning { ended[i] = Date() }
        usleep(20_000)
    }
    return try running.enumerated().map { i, r in (try r.wait(timeout: ended[i] == nil ? 0 : 1), ended[i] ?? Date()) }
}

func lines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}
