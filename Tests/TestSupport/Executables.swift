import Foundation

/// Runs the built executables the way a user does: a real process, an environment, pipes and
/// an exit status.
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

    /// The result of a finished run.
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
        package var output: String { stdout + stderr }

        package init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// A started process whose output is collected in temporary files.
    package final class Running: @unchecked Sendable {
        // @unchecked: `Process` is not Sendable; each Running is used by one test at a time.
        package let process: Process
        let outURL: URL
        let errURL: URL

        init(process: Process, outURL: URL, errURL: URL) {
            self.process = process
            self.outURL = outURL
            self.errURL = errURL
        }

        /// A test that failed half-way must not leave its processes running.
        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        package var pid: Int32 { process.processIdentifier }

        /// Waits up to `timeout` seconds; kills the process and fails when it takes longer.
        package func wait(timeout: Double = 60) throws -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw TestFailure("\(process.executableURL?.lastPathComponent ?? "?") did not finish within \(timeout) s; output: \(collected())")
            }
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus,
                stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        }

        /// The output so far.
        package func collected() -> String {
            ((try? String(contentsOf: outURL, encoding: .utf8)) ?? "") + ((try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        }

        package func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }
    }

    /// Starts `name` with `arguments`; `environment` is added to a clean base (PATH, HOME).
    package static func start(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(name)
        process.arguments = arguments
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wq-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let outURL = dir.appendingPathComponent("stdout")
        let errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        if let stdin {
            let input = dir.appendingPathComponent("stdin")
            try stdin.write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return Running(process: process, outURL: outURL, errURL: errURL)
    }

    /// Runs `name` to completion.
    package static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
        timeout: Double = 60
    ) throws -> Result {
        try start(name, arguments, environment: environment, stdin: stdin).wait(timeout: timeout)
    }
}

/// A failure raised by test support code.
package struct TestFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
