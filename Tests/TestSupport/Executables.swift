import Foundation

/// Runs the built executables the way a user does: a real process, an environment, its output
/// and an exit status, through `Command`.
package enum Executables {
    /// The folder holding `loader` and `processor`: `WQ_BIN`, else this package's debug build.
    package static var binDirectory: URL {
        if let bin = ProcessInfo.processInfo.environment["WQ_BIN"], !bin.isEmpty {
            return URL(fileURLWithPath: bin)
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    package static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `name` with `arguments`; `environment` is added to a clean base (PATH, HOME), so a
    /// WORK_QUEUE_* variable of the person running the tests never reaches the tools.
    package static func command(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
        timeout: Double = Command.defaultTimeout
    ) -> Command {
        let base = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        return Command(
            binDirectory.appendingPathComponent(name).path, arguments, environment: base.merging(environment) { $1 }, stdin: stdin,
            timeout: timeout)
    }

    /// Starts `name` in the background; `wait()` on the handle gives up after `timeout` seconds.
    package static func start(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
        timeout: Double = Command.defaultTimeout
    ) throws -> RunningCommand {
        try command(name, arguments, environment: environment, stdin: stdin, timeout: timeout).start()
    }

    /// Runs `name` to completion, killing it and failing after `timeout` seconds.
    package static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
        timeout: Double = Command.defaultTimeout
    ) throws -> CommandResult {
        try command(name, arguments, environment: environment, stdin: stdin, timeout: timeout).run()
    }
}
