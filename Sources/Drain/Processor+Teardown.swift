#if canImport(Glibc)
import Glibc
#endif
import Core
import ProcessRunner

extension Processor {
    /// Ends every command and `--stdio` worker, on every way out, by their stop plans: asks them
    /// to stop (SIGTERM to each command's process group, end of file to each worker), waits until
    /// `deadline`, kills what is left (SIGKILL to the group) and waits at most
    /// `StopPlan.killWait` for it to be reaped. Results that arrive now are not acknowledged: the
    /// caller is leaving, so the broker returns those items. Afterwards `running` is empty.
    func endAllWork(until deadline: Double) {
        let grace = max(0, deadline - MonotonicClock.now())
        let commands = running.compactMap(\.child)
        let stops =
            commands.map { StopSequence(.command(grace: grace), for: $0) }
            + workers.compactMap(\.child).map { StopSequence(.worker(grace: grace), for: $0) }
        guard !stops.isEmpty else {
            running.removeAll()
            return
        }
        stoppingWorkers = true
        let left = StopSequence.run(stops) {
            for child in commands { _ = child.poll() }
            for worker in workers where worker.isRunning { _ = worker.poll(now: MonotonicClock.now()) }
        }
        for process in left {
            if workers.contains(where: { $0.child === process }) {
                log.always("the --stdio worker (pid \(process.pid)) did not end within \(Format.seconds(StopPlan.killWait)) s of SIGKILL; leaving it")
            } else {
                log.always("process \(process.pid) did not end within \(Format.seconds(StopPlan.killWait)) s of SIGKILL; leaving it")
            }
        }
        running.removeAll()
    }
}
