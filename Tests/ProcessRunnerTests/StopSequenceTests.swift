#if canImport(Glibc)
import Glibc
#endif
import Testing

import Core
import Platform
import ProcessRunner

@Suite("Stop plans carried out on real child processes")
struct StopSequenceTests {
    @Test("a child that ignores SIGTERM is ended by SIGKILL once the wait is over")
    func ignoredTermIsKilledAfterTheWait() throws {
        let child = try startShell("trap '' TERM; echo ready; while :; do sleep 0.05; done")
        #expect(firstLine(of: child) == "ready")
        let started = MonotonicClock.now()
        let left = StopSequence.run([StopSequence(.command(grace: .milliseconds(300)), for: child)])
        let elapsed = MonotonicClock.now() - started
        #expect(left.isEmpty)
        #expect(child.exit == .signalled(SIGKILL))
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .milliseconds(300) + StopPlan.killWait)
    }

    @Test("a child that exits on SIGTERM is not sent SIGKILL, and nothing waits out the grace")
    func termEndsItWithoutKill() throws {
        let child = try startShell("echo ready; exec sleep 30")
        #expect(firstLine(of: child) == "ready")
        let started = MonotonicClock.now()
        var sequence = child.beginStop(.command(grace: .seconds(10)), now: started)
        var sent: [StopPlan.Step] = [.signal(SIGTERM)]
        // Stepped the way the processor's loop steps it: never blocking, reaping in between.
        while child.poll() == nil && MonotonicClock.now() - started < .seconds(5) {
            sent += sequence.advance(now: MonotonicClock.now())
            Sleep.for(.milliseconds(5))
        }
        #expect(child.exit == .signalled(SIGTERM))
        #expect(sent == [.signal(SIGTERM)])
        #expect(MonotonicClock.now() - started < .seconds(5))
        #expect(sequence.advance(now: started + .seconds(100)).isEmpty)
    }

    @Test("the whole process group is stopped: a grandchild that ignores SIGTERM is killed too")
    func groupIsStoppedWhole() throws {
        let child = try startShell("trap '' TERM; sleep 30 & echo $!; wait")
        let grandchild = try #require(firstLine(of: child).flatMap { pid_t($0) })
        let left = StopSequence.run([StopSequence(.command(grace: .milliseconds(200)), for: child)])
        #expect(left.isEmpty)
        #expect(child.exit == .signalled(SIGKILL))
        #expect(processEnded(grandchild))
    }

    @Test("a worker's plan closes its stdin first: a worker that finishes on end of file gets no signal")
    func workerEndsOnEndOfFile() throws {
        let worker = try startShell("echo ready; cat > /dev/null; exit 7")
        #expect(firstLine(of: worker) == "ready")
        let left = StopSequence.run([StopSequence(.worker(grace: .seconds(10)), for: worker)])
        #expect(left.isEmpty)
        #expect(worker.exit == .exited(7))
    }

    @Test("a process that outlives its plan is handed back after the last wait, not waited for")
    func outlivedPlanIsGivenUp() throws {
        let child = try startShell("trap '' TERM; echo ready; while :; do sleep 0.05; done")
        #expect(firstLine(of: child) == "ready")
        let started = MonotonicClock.now()
        let left = StopSequence.run([StopSequence(StopPlan([.signal(SIGTERM), .wait(.milliseconds(200))]), for: child)])
        #expect(left.map(\.pid) == [child.pid])
        #expect(MonotonicClock.now() - started < .seconds(2))
        #expect(child.exit == nil)
        child.signalGroup(SIGKILL)
        #expect(waitForExit(child) == .signalled(SIGKILL))
    }

    @Test("advance never sleeps: a wait in progress returns at once and says when it ends")
    func advanceDoesNotBlock() throws {
        let child = try startShell("trap '' TERM; echo ready; while :; do sleep 0.05; done")
        #expect(firstLine(of: child) == "ready")
        var sequence = child.beginStop(StopPlan([.signal(SIGTERM), .wait(.seconds(30)), .signal(SIGKILL), .wait(.seconds(2))]), now: at(1000))
        #expect(sequence.deadline == at(1030))
        #expect(sequence.advance(now: at(1029.9)).isEmpty)
        #expect(!sequence.isFinished)
        #expect(sequence.advance(now: at(1030)) == [.wait(.seconds(30)), .signal(SIGKILL)])
        #expect(sequence.deadline == at(1032))
        #expect(waitForExit(child) == .signalled(SIGKILL))
        #expect(sequence.advance(now: at(1040)).isEmpty)  // reaped: the plan has nothing more to do
        #expect(sequence.processEnded)
    }

    @Test("an item timeout kills the group at once")
    func killNowKillsAtOnce() throws {
        let child = try startShell("trap '' TERM; echo ready; while :; do sleep 0.05; done")
        #expect(firstLine(of: child) == "ready")
        let sequence = child.beginStop(.killNow)
        #expect(sequence.isFinished)
        #expect(waitForExit(child) == .signalled(SIGKILL))
    }

    @Test("a child already reaped is sent nothing (its pid may belong to another process by now)")
    func reapedChildGetsNoSignal() throws {
        let child = try startShell("exit 3")
        #expect(waitForExit(child) == .exited(3))
        var sequence = StopSequence(.command(grace: .zero), for: child)
        #expect(sequence.advance(now: MonotonicClock.now()).isEmpty)
        #expect(StopSequence.run([sequence]).isEmpty)
    }
}
