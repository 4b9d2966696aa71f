import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A started `Command`: a child process whose stdout and stderr go to files in a temporary folder.
/// It stays in the test runner's process group, so a Ctrl-C or `timeout` that signals the group
/// reaches it too. Waiting polls `waitpid` (Foundation's `Process` sometimes never
/// noticed a child that exited in a moment, and a test hung on a zombie). Dropping the handle
/// kills a child still running, so a test that failed half-way leaves nothing behind.
package final class RunningCommand: Sendable {
    package let command: Command
    package let pid: pid_t
    private let folder: String
    private var outPath: String { folder + "/stdout" }
    private var errPath: String { folder + "/stderr" }
    /// The raw `waitpid` status once the child has been reaped.
    private let reaped = Mutex<Int32?>(nil)

    init(_ command: Command) throws {
        self.command = command
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("wq-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let inPath = folder + "/stdin"
        if let stdin = command.stdin { try stdin.write(to: URL(fileURLWithPath: inPath)) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, command.stdin == nil ? "/dev/null" : inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, folder + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, folder + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else of the test runner's (sockets of a FaultProxy, broker connections) leaks in.
        Self.closeFrom3(&actions)

        // An empty signal mask and default handlers: the test runner's blocked or ignored signals
        // would otherwise be inherited by the child and the servers it starts.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        sigdelset(&signals, SIGKILL)
        sigdelset(&signals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([command.executable] + command.arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = command.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, command.executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            try? FileManager.default.removeItem(atPath: folder)
            throw TestFailure("cannot run \(command.executable): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Kills the child and every process it started, and reaps it; nothing when it has exited.
    package func kill() {
        guard isRunning else { return }
        killTree()
        reap(blocking: true)
    }

    /// False once the child has exited (it is reaped then).
    package var isRunning: Bool { reap(blocking: false) == nil }

    /// Sends `sig` to the child itself (not to what it started).
    package func signal(_ sig: Int32) { Glibc.kill(pid, sig) }

    /// Waits up to `timeout` seconds (the command's own by default); kills the command and every
    /// process it started and throws, naming it and quoting the end of its output, when it takes longer.
    @discardableResult
    package func wait(timeout: Double? = nil) throws -> CommandResult {
        let limit = timeout ?? command.timeout
        let deadline = Date().addingTimeInterval(limit)
        while isRunning {
            if Date() >= deadline {
                killTree()
                reap(blocking: true)
                throw TestFailure(
                    "\(command.commandLine) did not finish within \(String(format: "%g", limit)) s and was killed\n\(tail())")
            }
            usleep(10_000)
        }
        return result()
    }

    /// Waits until stdout or stderr shows `text`; throws when the child exits or `timeout` passes first.
    package func waitForOutput(_ text: String, timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !collected().contains(text) {
            guard isRunning else {
                throw TestFailure("\(command.commandLine) exited (\(result().status)) without writing '\(text)'\n\(tail())")
            }
            guard Date() < deadline else {
                throw TestFailure("\(command.commandLine) did not write '\(text)' within \(String(format: "%g", timeout)) s\n\(tail())")
            }
            usleep(20_000)
        }
    }

    /// What the child wrote to stdout so far.
    package var stdout: String { Self.read(outPath) }
    /// What the child wrote to stderr so far.
    package var stderr: String { Self.read(errPath) }
    /// Its output so far, stdout then stderr.
    package func collected() -> String { stdout + stderr }

    /// The last lines of each stream, for failure messages.
    package func tail(lines: Int = 30) -> String {
        func last(_ text: String) -> String {
            let kept = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            return kept.count > 4000 ? "..." + String(kept.suffix(4000)) : kept
        }
        return "--- end of stdout ---\n\(last(stdout))\n--- end of stderr ---\n\(last(stderr))"
    }

    private func result() -> CommandResult {
        let raw = reap(blocking: true) ?? 0
        let signaled = (raw & 0x7F) != 0
        return CommandResult(
            status: signaled ? raw & 0x7F : (raw >> 8) & 0xFF, signal: signaled ? raw & 0x7F : nil, stdout: stdout, stderr: stderr)
    }

    /// The raw status once the child exited; reaps it the first time.
    @discardableResult
    private func reap(blocking: Bool) -> Int32? {
        reaped.withLock { status in
            if status != nil { return status }
            var raw: Int32 = 0
            while true {
                let result = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
                if result == pid {
                    status = raw
                    break
                }
                if result < 0 && errno == EINTR { continue }
                // 0: still running; ECHILD cannot happen for our own unreaped child.
                break
            }
            return status
        }
    }

    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which Swift's Glibc module does not
    /// show; otherwise every descriptor open now (a close of one closed meanwhile is ignored).
    private static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(entry), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
    }

    /// SIGKILL to the child and its descendants (found by parent pid in /proc, whatever process
    /// group they moved to), children first found, then the child, then any forked meanwhile.
    private func killTree() {
        for _ in 0..<2 {
            for descendant in Self.descendants(of: pid) { Glibc.kill(descendant, SIGKILL) }
            Glibc.kill(pid, SIGKILL)
        }
    }

    /// Every live process whose chain of parents leads to `root`.
    private static func descendants(of root: pid_t) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { children[parent, default: []].append(pid) }
        }
        var found: [pid_t] = []
        var queue = children[root] ?? []
        while let next = queue.popLast() {
            found.append(next)
            queue += children[next] ?? []
        }
        return found
    }

    private static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
