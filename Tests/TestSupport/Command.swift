import Foundation

/// A program a test runs and how: its arguments, environment, stdin and the time it may take.
/// The one way tests start processes: `run()` to completion, or `start()` in the background.
/// Output goes to files, never to a pipe that can fill up and stall the child; a command that
/// outlives its timeout is killed (with every process it started) and fails the test with its name and
/// the end of its output.
package struct Command: Sendable {
    /// How long a command may take unless it says otherwise.
    package static let defaultTimeout: Double = 120

    /// A path, or a name looked up in this process's PATH.
    package var executable: String
    package var arguments: [String]
    /// The child's whole environment.
    package var environment: [String: String]
    /// What the child reads on stdin; /dev/null when nil.
    package var stdin: Data?
    /// Seconds `run()` waits before it kills the command and fails; `wait()`'s default too.
    package var timeout: Double

    /// `environment` is added to this process's environment.
    package init(
        _ executable: String, _ arguments: [String] = [], adding environment: [String: String] = [:], stdin: Data? = nil,
        timeout: Double = Command.defaultTimeout
    ) {
        self.init(
            executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, stdin: stdin,
            timeout: timeout)
    }

    /// `environment` is the child's whole environment.
    package init(_ executable: String, _ arguments: [String], environment: [String: String], stdin: Data? = nil, timeout: Double) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.stdin = stdin
        self.timeout = timeout
    }

    /// The program's name and arguments, as failures quote them.
    package var commandLine: String {
        ([URL(fileURLWithPath: executable).lastPathComponent] + arguments).joined(separator: " ")
    }

    /// Starts the command in the background; the handle kills it when dropped.
    package func start() throws -> RunningCommand { try RunningCommand(self) }

    /// Runs the command to its end, or kills it after `timeout` seconds and throws.
    package func run() throws -> CommandResult { try start().wait() }
}

/// What a finished command left: its exit status and everything it wrote.
package struct CommandResult: Sendable {
    /// The exit status; for a process killed by a signal, the signal's number (as Foundation's
    /// `Process` reports it), and `signal` says so.
    package var status: Int32
    /// The signal that killed the process, if one did.
    package var signal: Int32?
    package var stdout: String
    package var stderr: String
    package var output: String { stdout + stderr }

    package init(status: Int32, signal: Int32? = nil, stdout: String, stderr: String) {
        self.status = status
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A failure raised by test support code.
package struct TestFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
