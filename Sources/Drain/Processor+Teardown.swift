#if canImport(Glibc)
import Glibc
#endif
import Core

extension Processor {
    /// Ends every command and `--stdio` worker, on every way out: asks them to stop (SIGTERM to
    /// each command's process group, end of file to each worker), waits until `deadline`, kills
    /// what is left (SIGKILL to the group) and waits at most `killWait` for it to be reaped.
    /// Results that arrive now are not acknowledged: the caller is leaving, so the broker
    /// returns those items. Afterwards `running` is empty.
    func endAllWork(until deadline: Double) {
        let commands = running.compactMap(\.child)
        guard !commands.isEmpty || workers.contains(where: \.isRunning) else {
            running.removeAll()
            return
        }
        askWorkToStop()
        var left = commands
        func reap() {
            left.removeAll { $0.poll() != nil }
            for worker in workers where worker.isRunning { _ = worker.poll(now: MonotonicClock.now()) }
        }
        func done() -> Bool { left.isEmpty && !workers.contains(where: \.isRunning) }
        while !done() && MonotonicClock.now() < deadline {
            reap()
            if !done() { Sleep.seconds(0.01) }
        }
        for child in left { child.signalGroup(SIGKILL) }
        for worker in workers where worker.isRunning { worker.signal(SIGKILL) }
        let killDeadline = MonotonicClock.now() + StopRequest.killWait
        while !done() && MonotonicClock.now() < killDeadline {
            reap()
            if !done() { Sleep.seconds(0.005) }
        }
        for child in left {
            log.always("process \(child.pid) did not end within \(Format.seconds(StopRequest.killWait)) s of SIGKILL; leaving it")
        }
        for worker in workers where worker.isRunning {
            log.always("the --stdio worker (pid \(worker.child?.pid ?? -1)) did not end within \(Format.seconds(StopRequest.killWait)) s of SIGKILL; leaving it")
        }
        running.removeAll()
    }
}
