#if canImport(Glibc)
import Glibc
#endif
import Core

/// One long-lived `--stdio` worker process: started once, fed one item line at a time, answered
/// one line per item; restarted (with backoff when it keeps dying) after it exits or is killed.
package final class StdioWorker {
    /// What polling the worker found: an answer, or its exit.
    package enum Event: Sendable, Equatable {
        case reply(StdioReply)
        case exited(ChildExit)
    }

    let argv: [[UInt8]]
    let environment: [[UInt8]]
    let executable: String?
    package private(set) var child: ChildProcess?
    private var buffer: [UInt8] = []
    private var outputClosed = false
    /// When the next start may happen (backoff after crashes).
    package private(set) var restartAt: Instant?
    /// Exits in a row without a single answer in between (kills by the processor not counted).
    package private(set) var crashesInRow = 0
    /// True once the worker answered any item (a worker that never did is likely broken).
    package private(set) var everAnswered = false
    private var delay: Duration = .zero

    package init(argv: [[UInt8]], environment: [[UInt8]], executable: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.executable = executable
    }

    package var isRunning: Bool { child != nil }

    /// Starts the process if it is not running and its backoff allows; true when running.
    package func startIfDue(now: Instant) throws(WorkQueueError) -> Bool {
        if child != nil { return true }
        if let restartAt, now < restartAt { return false }
        child = try ChildProcess(argv: argv, environment: environment, input: [], streaming: true, executable: executable)
        buffer.removeAll(keepingCapacity: true)
        outputClosed = false
        return true
    }

    /// Writes one encoded item line.
    package func send(_ line: [UInt8]) {
        child?.send(line)
    }

    /// Reads answers and notices an exit. Answers come first; the exit only once stdout is closed
    /// (or the process is gone), so a last answer written just before exiting is never lost.
    package func poll(now: Instant, reap: Bool = true) -> [Event] {
        guard let child else { return [] }
        var events: [Event] = []
        child.feedInput()
        if !outputClosed && !child.readOutput(into: &buffer) { outputClosed = true }
        takeAnswers(into: &events)
        if reap || outputClosed, let exit = child.poll() {
            // Whatever is still in the pipe was written before the exit.
            _ = child.readOutput(into: &buffer)
            takeAnswers(into: &events)
            self.child = nil
            crashesInRow += 1
            restartAt = now + delay
            delay = delay == .zero ? .milliseconds(500) : min(delay * 2, .seconds(10))
            events.append(.exited(exit))
        }
        return events
    }

    /// Turns every complete line read so far into an answer; an answer resets the crash count.
    private func takeAnswers(into events: inout [Event]) {
        while let newline = buffer.firstIndex(of: 0x0A) {
            events.append(.reply(StdioReply(line: Array(buffer[..<newline]))))
            buffer.removeSubrange(...newline)
            crashesInRow = 0
            delay = .zero
            everAnswered = true
        }
    }

    /// The last exit was the processor's doing (a timeout or stop kill): restart at once and do
    /// not count it as the worker dying.
    package func forgiveLastExit() {
        crashesInRow = max(0, crashesInRow - 1)
        restartAt = nil
        delay = .zero
    }

    /// Closes the worker's stdin so it finishes on its own.
    package func closeInput() {
        child?.closeInput()
    }

    /// Descriptors to wait on: stdout for answers, stdin while input is pending.
    package var outputFD: Int32 { child?.stdoutFD ?? -1 }
    package var pendingInputFD: Int32 { child.map { $0.hasPendingInput ? $0.stdinFD : -1 } ?? -1 }
}
