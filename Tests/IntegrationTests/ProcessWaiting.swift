import Foundation
import TestSupport

// Waiting on processes, files and conditions in the integration tests.

/// Waits for `running` processes, noting when each ended.
func finish(_ running: [Executables.Running], timeout: Double = 90) throws -> [(result: Executables.Result, endedAt: Date)] {
    var ended: [Int: Date] = [:]
    let deadline = Date().addingTimeInterval(timeout)
    while ended.count < running.count && Date() < deadline {
        for (i, r) in running.enumerated() where ended[i] == nil && !r.process.isRunning { ended[i] = Date() }
        usleep(20_000)
    }
    return try running.enumerated().map { i, r in (try r.wait(timeout: 1), ended[i] ?? Date()) }
}

func lines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

func waitUntil(_ timeout: Double = 20, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(50_000)
    }
    throw TestFailure("condition not met within \(timeout) s")
}
