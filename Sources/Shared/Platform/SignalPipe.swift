#if canImport(Glibc)
import Glibc
#endif
import Core

/// The write end of the self-pipe, written by the signal handler. A C signal handler cannot
/// capture context, so this must be a global; it is set once before any handler is installed and
/// never closed (a handler may run at any moment for the rest of the process).
private nonisolated(unsafe) var signalPipeWriteFD: Int32 = -1

/// Turns signals (by default SIGCHLD, SIGTERM and SIGINT) into bytes on a pipe, so one `poll(2)` waits for signals,
/// the broker's socket and children's pipes together (the self-pipe trick).
package final class SignalPipe {
    /// The read end, owned here; the write end belongs to the handlers.
    private let reader: OwnedDescriptor

    /// Creates the pipe and installs the handlers. Call once per process.
    package init(signals: [Int32] = [SIGCHLD, SIGTERM, SIGINT]) throws(WorkQueueError) {
        let pair = try PipePair.make(what: "the signal pipe", nonBlocking: true)
        signalPipeWriteFD = pair.write.take()
        reader = pair.read
        for sig in signals {
            var action = sigaction()
            // One record per signal, written at once (under PIPE_BUF, so whole or not at all):
            // the number and the sender's pid (0 when it is outside our pid namespace or the kernel).
            action.__sigaction_handler.sa_sigaction = { number, info, _ in
                let saved = errno
                let sender = info?.pointee._sifields._kill.si_pid ?? 0
                var record = ReceivedSignal(number: number, sender: sender)
                _ = write(signalPipeWriteFD, &record, MemoryLayout<ReceivedSignal>.size)
                errno = saved
            }
            action.sa_flags = SA_RESTART | SA_NOCLDSTOP | SA_SIGINFO
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
        signal(SIGPIPE, SIG_IGN)
        // A parent may start us with these signals blocked (some process launchers do);
        // then SIGCHLD would never wake the loop.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in signals { sigaddset(&unblock, sig) }
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The read end for `poll(2)`.
    package var readFD: Int32 { reader.rawValue }

    /// The signals that arrived since the last call, oldest first.
    package func drain() -> [ReceivedSignal] {
        var result: [ReceivedSignal] = []
        // Records are written whole, so the pipe always holds a whole number of them.
        var buffer = [ReceivedSignal](repeating: ReceivedSignal(number: 0, sender: 0), count: 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result.append(contentsOf: buffer[0..<(n / MemoryLayout<ReceivedSignal>.stride)])
        }
        return result
    }
}

/// A signal that arrived: its number and who sent it (`si_pid`; 0 when the kernel sent it, or a
/// process outside our pid namespace, as a container runtime stopping the pod). The handler
/// writes it to the pipe as it is: two 32-bit integers, a plain value.
package struct ReceivedSignal: Sendable, Equatable {
    package var number: Int32
    package var sender: pid_t

    package init(number: Int32, sender: pid_t) {
        self.number = number
        self.sender = sender
    }
}

