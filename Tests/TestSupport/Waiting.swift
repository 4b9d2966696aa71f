import Foundation

/// Waits until `condition` holds, checking every `every` seconds; throws a failure naming `what`
/// when `timeout` seconds pass first. Tests wait on what they need (a file, a line of output, a
/// queue's counts) instead of sleeping for a time that is too short on a busy machine.
package func waitUntil(
    _ what: String = "the condition", timeout: Double = 20, every: Double = 0.05, _ condition: () throws -> Bool
) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return }
        guard Date() < deadline else { throw TestFailure("waited \(String(format: "%g", timeout)) s for \(what); it never happened") }
        usleep(useconds_t(every * 1_000_000))
    }
}

/// Waits for `running` processes, noting when each ended; fails naming the first still running
/// after `timeout` seconds (and kills the rest when the handles go).
package func finish(_ running: [RunningCommand], timeout: Double = 90) throws -> [(result: CommandResult, endedAt: Date)] {
    var ended: [Int: Date] = [:]
    let deadline = Date().addingTimeInterval(timeout)
    while ended.count < running.count && Date() < deadline {
        for (i, r) in running.enumerated() where ended[i] == nil && !r.isRunning { ended[i] = Date() }
        usleep(20_000)
    }
    return try running.enumerated().map { i, r in (try r.wait(timeout: ended[i] == nil ? 0 : 1), ended[i] ?? Date()) }
}

/// The lines of the file at `path`; none when it does not exist (yet).
package func lines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

/// True once no live (non-zombie) process is left in process group `pgid`, waiting up to 3 s.
package func processGroupGone(_ pgid: Int32) throws -> Bool {
    let gone = {
        try !FileManager.default.contentsOfDirectory(atPath: "/proc").contains { entry in
            guard Int32(entry) != nil, let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 3 && fields[0] != "Z" && Int32(fields[2]) == pgid
        }
    }
    return (try? waitUntil("process group \(pgid) to end", timeout: 3, gone)) != nil
}
