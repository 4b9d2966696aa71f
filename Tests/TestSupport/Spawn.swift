import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs helper programs (tmux, scripts/cluster, rabbitmqctl) to their end with posix_spawn and
/// waitpid: Foundation's Process sometimes never noticed a child that exited in a moment, and the
/// test hung on a zombie. The child gets an empty signal mask (servers it starts would otherwise
/// inherit the test runner's blocked signals), stdin from /dev/null, and is killed after `timeout`.
package enum Spawn {
    /// Runs `program` (searched in PATH unless it holds a slash); returns its exit status
    /// (128+signal when killed by one). `output` and `errors` are files or /dev/null; `adding`
    /// is set in the child's environment over this process's.
    package static func run(
        _ program: String, _ arguments: [String], output: String = "/dev/null", errors: String = "/dev/null",
        adding: [String: String] = [:], timeout: Double = 120
    ) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in adding { environment[key] = value }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let spawned = posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw TestFailure("cannot run \(program): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { throw TestFailure("waitpid for \(program) failed: errno \(errno)") }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw TestFailure("\(program) \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
            }
            usleep(20_000)
        }
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
