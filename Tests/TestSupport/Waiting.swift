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
