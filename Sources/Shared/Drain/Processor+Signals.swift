#if canImport(Glibc)
import Glibc
#endif
import Platform

extension Processor {
    /// A signal from the signal pipe. SIGTERM and SIGINT ask for a stop, unless they came from the
    /// processor's own work: a command (or a process of its group, or a `--stdio` worker) that
    /// signals its parent does not stop the pod. If it did, the stop would return its item
    /// without spending an attempt, the next processor would run it and be stopped too, and a
    /// Job would replace pods for ever. Such a signal is logged and ignored: the item's own
    /// result decides, as for any item.
    func note(_ signal: ReceivedSignal) {
        if signal.number == SIGTERM || signal.number == SIGINT, let work = slots.work(of: signal.sender) {
            let name = signal.number == SIGINT ? "SIGINT" : "SIGTERM"
            log.always("got \(name) from \(work) (pid \(signal.sender)), not from outside: the work cannot stop its processor; ignored")
            return
        }
        stop.note(signal.number)
    }
}
