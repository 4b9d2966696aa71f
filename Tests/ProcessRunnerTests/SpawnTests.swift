#if canImport(Glibc)
import Glibc
#endif
import Testing

import Core
import Platform
import ProcessRunner

@Suite("What a started child inherits")
struct SpawnTests {
    /// The output of `/bin/sh -c script` started with `environment`, adding `extra` when given.
    func output(of script: String, environment: CommandEnvironment, adding extra: String? = nil) throws -> String {
        let child = try ChildProcess(
            argv: [Array("/bin/sh".utf8), Array("-c".utf8), Array(script.utf8)], environment: environment,
            adding: extra.map { Array($0.utf8) }, input: [], streaming: true, executable: "/bin/sh")
        child.closeInput()
        var buffer: [UInt8] = []
        let until = MonotonicClock.now() + .seconds(5)
        while child.readOutput(into: &buffer), MonotonicClock.now() < until { Sleep.for(.milliseconds(5)) }
        _ = waitForExit(child)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test("a child starts with every signal at its default action and none blocked, whatever this process ignores or blocks")
    func defaultSignals() throws {
        // Ignored and blocked here, as a processor started by nohup with a blocked signal would be.
        let ignoredBefore = signal(SIGHUP, SIG_IGN)
        let pipeBefore = signal(SIGPIPE, SIG_IGN)
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR2)
        var maskBefore = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &maskBefore)
        defer {
            pthread_sigmask(SIG_SETMASK, &maskBefore, nil)
            signal(SIGHUP, ignoredBefore)
            signal(SIGPIPE, pipeBefore)
        }
        let status = try output(of: "exec grep -E '^Sig(Ign|Blk):' /proc/self/status", environment: CommandEnvironment([Array("PATH=/usr/bin:/bin".utf8)]))
        let masks: [String: UInt64] = Dictionary(uniqueKeysWithValues: status.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":\t")
            return parts.count == 2 ? UInt64(parts[1], radix: 16).map { (String(parts[0]), $0) } : nil
        })
        #expect(masks["SigBlk"] == 0, "\(status)")
        // Signals 32 and 33 are glibc's own (thread cancellation, setxid), which its posix_spawn
        // ignores in every child; a program cannot use them.
        let glibcInternal: UInt64 = 1 << 31 | 1 << 32
        #expect(masks["SigIgn"].map { $0 & ~glibcInternal } == 0, "\(status)")
    }

    @Test("the environment made once is the same for every child; the variable added is the child's own")
    func environmentMadeOnce() throws {
        let environment = CommandEnvironment([Array("PATH=/usr/bin:/bin".utf8), Array("A=1".utf8)])
        let script = #"echo "$A ${WORK_ITEM-unset}""#
        #expect(try output(of: script, environment: environment, adding: "WORK_ITEM=first") == "1 first\n")
        #expect(try output(of: script, environment: environment) == "1 unset\n")
        #expect(try output(of: script, environment: environment, adding: "WORK_ITEM=second one") == "1 second one\n")
    }

    /// `/bin/sh -c script` started ahead of its item (`input` nil), as `--spawn-ahead` does.
    func startedAhead(_ script: String) throws -> ChildProcess {
        try ChildProcess(
            argv: [Array("/bin/sh".utf8), Array("-c".utf8), Array(script.utf8)], environment: CommandEnvironment([]),
            input: nil, executable: "/bin/sh")
    }

    @Test("a command started ahead waits on its empty stdin until it is given its item, which it reads whole")
    func startedAheadWaitsForItsItem() throws {
        let child = try startedAhead(#"item=$(cat); [ "$item" = "two words" ]"#)
        Sleep.for(.milliseconds(200))
        #expect(child.poll() == nil)
        #expect(child.awaitingInput)
        child.give(Array("two words".utf8))
        #expect(!child.awaitingInput)
        #expect(waitForExit(child) == .exited(0))
    }

    @Test("a command started ahead that ended before its item is handed nothing; its exit stands")
    func startedAheadThatEndedKeepsItsExit() throws {
        let child = try startedAhead("exit 7")
        #expect(waitForExit(child) == .exited(7))
        #expect(child.stdinFD == -1)
        child.give(Array("item".utf8))
        #expect(!child.awaitingInput && !child.hasPendingInput)
        #expect(child.poll() == .exited(7))
    }
}
