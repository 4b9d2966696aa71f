#if canImport(Glibc)
import Glibc
#endif
import Testing

import Core
import Platform
@testable import Drain
import ProcessRunner

/// The work slots against real child processes (`/bin/sh`), without a broker.
@Suite("Work slots: what ended, timeouts and stops, with real commands")
struct WorkSlotsTests {
    let log = Log(quiet: true)

    func item(_ tag: UInt64, _ script: String, timeoutAt: Instant? = nil) throws -> RunningItem {
        let delivery = Delivery(tag: tag, body: Array("item \(tag)".utf8), redelivered: false, headers: [:])
        var item = RunningItem(delivery: delivery, generation: 0, attempt: 1, startedAt: MonotonicClock.now())
        item.child = try ChildProcess(
            argv: ["/bin/sh", "-c", script].map { Array($0.utf8) }, environment: [], input: delivery.body,
            executable: "/bin/sh")
        item.timeoutAt = timeoutAt
        return item
    }

    /// Waits up to 5 s until the command of `item` ignores SIGTERM (its shell ran `trap '' TERM`,
    /// as the SigIgn mask in /proc/PID/status shows), so that a SIGTERM sent next finds the trap set.
    func waitForTrap(_ item: RunningItem) throws {
        let pid = try #require(item.child?.pid)
        let deadline = MonotonicClock.now() + .seconds(5)
        while !Self.ignoresTERM(pid) {
            guard MonotonicClock.now() < deadline else {
                Issue.record("the shell \(pid) did not set its SIGTERM trap within 5 s")
                return
            }
            usleep(2_000)
        }
    }

    private static func ignoresTERM(_ pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigIgn:") }),
            let mask = UInt64(String(line.dropFirst("SigIgn:".count).filter { !$0.isWhitespace }), radix: 16)
        else { return false }
        return mask & (1 << (UInt64(SIGTERM) - 1)) != 0
    }

    /// The child's exit, waited for up to 5 s.
    func waitForExitStatus(_ child: ChildProcess) -> ChildExit? {
        let until = MonotonicClock.now() + .seconds(5)
        while MonotonicClock.now() < until {
            if let exit = child.poll() { return exit }
            usleep(5_000)
        }
        return nil
    }

    /// Collects until `count` items ended or 10 s passed.
    func collect(_ slots: inout WorkSlots, count: Int, stopping: Bool = false) throws -> [(RunningItem, WorkSlots.Ending)] {
        var ended: [(RunningItem, WorkSlots.Ending)] = []
        let deadline = MonotonicClock.now() + .seconds(10)
        while ended.count < count && MonotonicClock.now() < deadline {
            let now = MonotonicClock.now()
            ended += slots.collect(now: now, reap: true, readWorkers: true, stopping: stopping, log: log).ended
            slots.enforceTimeouts(now: now)
            _ = slots.advanceStops(now: now)
            if ended.count < count { usleep(5_000) }
        }
        return ended
    }

    @Test("an ended command is reported with its exit status and frees its slot")
    func endedCommand() throws {
        var slots = WorkSlots(concurrency: 2)
        slots.add(try item(1, "cat >/dev/null; exit 3"))
        slots.add(try item(2, "cat >/dev/null"))
        #expect(!slots.canStart(now: at(0)), "two slots, two items")
        let ended = try collect(&slots, count: 2)
        let exits = Dictionary(uniqueKeysWithValues: ended.map { ($0.0.delivery.tag, $0.1) })
        guard case .command(let first)? = exits[1], case .command(let second)? = exits[2] else {
            Issue.record("expected two ended commands, got \(ended.map(\.1))")
            return
        }
        #expect(first == .exited(3))
        #expect(second == .exited(0))
        #expect(slots.isEmpty)
        #expect(slots.canStart(now: at(0)))
    }

    @Test("an item past its timeout has its process group killed and is marked so")
    func timeout() throws {
        var slots = WorkSlots(concurrency: 1)
        slots.add(try item(1, "sleep 30", timeoutAt: MonotonicClock.now() + .milliseconds(100)))
        #expect(slots.nextTimeout != nil)
        let ended = try collect(&slots, count: 1)
        #expect(ended.first?.0.killedFor == .timeout)
        guard case .command(let exit)? = ended.first?.1 else {
            Issue.record("the command did not end")
            return
        }
        #expect(exit == .signalled(SIGKILL))
    }

    @Test("asked to stop, a command that ends on SIGTERM ends by it; one that ignores it is killed after the grace")
    func stop() throws {
        var slots = WorkSlots(concurrency: 2)
        let stubborn = try item(2, "trap '' TERM; sleep 30")
        slots.add(try item(1, "sleep 30"))
        slots.add(stubborn)
        try waitForTrap(stubborn)
        let asked = MonotonicClock.now()
        slots.askToStop(grace: .milliseconds(300), now: asked)
        let ended = try collect(&slots, count: 2, stopping: true)
        let byTag = Dictionary(uniqueKeysWithValues: ended.map { ($0.0.delivery.tag, $0) })
        #expect(byTag[1]?.0.killedFor == nil, "ended by the SIGTERM it was passed")
        #expect(byTag[2]?.0.killedFor == .stop, "killed after the grace")
        #expect(MonotonicClock.now() - asked >= .milliseconds(300))
        #expect(slots.isEmpty)
    }

    @Test("ending all work on the way out kills what is left within the deadline and empties the slots")
    func endAll() throws {
        var slots = WorkSlots(concurrency: 2)
        let stubborn = try item(1, "trap '' TERM; sleep 30")
        slots.add(stubborn)
        slots.add(try item(2, "sleep 30"))
        try waitForTrap(stubborn)
        let started = MonotonicClock.now()
        slots.endAll(until: started + .milliseconds(200), clock: SystemLoopClock(), log: log)
        #expect(slots.isEmpty)
        #expect(MonotonicClock.now() - started < .seconds(3))
    }

    @Test("a pid is known as our work when it is an item's command or in its process group; the kernel, ourselves and strangers are not")
    func workOfASender() throws {
        var slots = WorkSlots(concurrency: 1)
        // The command starts a child, which stays in the command's process group.
        let running = try item(1, "sleep 30 & wait")
        slots.add(running)
        let command = try #require(running.child?.pid)
        #expect(slots.work(of: command) == "the work on item item 1")
        #expect(slots.work(of: 0) == nil, "the kernel, or a sender outside our pid namespace")
        #expect(slots.work(of: getpid()) == nil)
        #expect(slots.work(of: getppid()) == nil)
        // A grandchild in the command's group.
        let deadline = MonotonicClock.now() + .seconds(5)
        var grandchild: pid_t?
        while grandchild == nil, MonotonicClock.now() < deadline {
            grandchild = Self.children(of: command).first
            if grandchild == nil { usleep(5_000) }
        }
        let child = try #require(grandchild, "the command's child did not start")
        #expect(slots.work(of: child) == "the work on item item 1")
        slots.endAll(until: MonotonicClock.now() + .milliseconds(200), clock: SystemLoopClock(), log: log)
        #expect(slots.work(of: command) == nil, "no longer ours once ended")
    }

    /// The pids whose parent is `pid`, from /proc/PID/task/*/children.
    private static func children(of pid: pid_t) -> [pid_t] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return [] }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
    }

    @Test("ending all work measures the grace on the loop's clock, however far it ran ahead of real time")
    func endAllOnTheLoopClock() throws {
        var slots = WorkSlots(concurrency: 1)
        slots.add(try item(1, "trap '' TERM; sleep 30"))
        usleep(100_000)
        let clock = TestLoopClock()
        clock.sleep(for: .seconds(60))
        let started = MonotonicClock.now()
        slots.endAll(until: clock.now() + .milliseconds(200), clock: clock, log: log)
        #expect(slots.isEmpty)
        #expect(MonotonicClock.now() - started < .seconds(5))
    }

    /// `/bin/sh -c script` started ahead of its item, as `--spawn-ahead` does.
    func startedAhead(_ script: String) throws -> ChildProcess {
        try ChildProcess(argv: ["/bin/sh", "-c", script].map { Array($0.utf8) }, environment: CommandEnvironment([]), input: nil, executable: "/bin/sh")
    }

    @Test("a command reaped before it was given its item (it ended ahead) is collected on a pass without SIGCHLD")
    func reapedAheadIsCollectedWithoutASignal() throws {
        var slots = WorkSlots(concurrency: 1)
        let child = try startedAhead("exit 4")
        #expect(waitForExitStatus(child) == .exited(4))
        child.give(Array("item".utf8))
        let delivery = Delivery(tag: 1, body: Array("item".utf8), redelivered: false, headers: [:])
        var item = RunningItem(delivery: delivery, generation: 0, attempt: 1, startedAt: MonotonicClock.now())
        item.child = child
        slots.add(item)
        #expect(slots.hasReapedWork)
        let ended = slots.collect(now: MonotonicClock.now(), reap: false, readWorkers: false, stopping: false, log: log).ended
        guard case .command(let exit)? = ended.first?.1 else {
            Issue.record("the command reaped ahead was not collected without reaping")
            return
        }
        #expect(exit == .exited(4))
        #expect(!slots.hasReapedWork && slots.isEmpty)
    }

    @Test("commands waiting ahead get SIGKILL on the way out while their stdin is still open, so none runs on an empty item")
    func waitingAheadKilledBeforeEndOfFile() throws {
        var slots = WorkSlots(concurrency: 2)
        // Each would exit 0 at once on end of file; only SIGKILL before it ends them by a signal.
        let waiting = [try startedAhead("cat >/dev/null; exit 0"), try startedAhead("cat >/dev/null; exit 0")]
        for child in waiting { slots.keepAhead(child) }
        usleep(100_000)
        slots.askToStop(grace: .seconds(5), now: MonotonicClock.now())
        #expect(waiting.allSatisfy { $0.stdinFD >= 0 }, "stdin closed before the kill")
        slots.endAll(until: MonotonicClock.now(), clock: SystemLoopClock(), log: log)
        for child in waiting { #expect(child.exit == .signalled(SIGKILL)) }
        #expect(slots.takeAhead() == nil)
    }
}
