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
            action.__sigaction_handler.sa_handler = { number in
                let saved = errno
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWriteFD, &byte, 1)
                errno = saved
            }
            action.sa_flags = SA_RESTART | SA_NOCLDSTOP
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

    /// The signals that arrived since the last call.
    package func drain() -> [Int32] {
        var result: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result.append(contentsOf: buffer[0..<n].map { Int32($0) })
        }
        return result
    }
}
