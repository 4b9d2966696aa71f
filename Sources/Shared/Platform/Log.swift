#if canImport(Glibc)
import Glibc
#endif
import Core

/// Writes the tools' log lines to standard error, one `write` per line so lines from parallel
/// processors do not interleave, and standard output lines for the demo work.
package struct Log: Sendable {
    package var quiet: Bool
    /// Says an error's remedies in the tool's words (flags, environment variables); the
    /// executables set it (ErrorReport), the layers below only name the remedy.
    package var phrase: @Sendable (String, WorkQueueError.Remedy) -> String

    package init(quiet: Bool = false, phrase: @escaping @Sendable (String, WorkQueueError.Remedy) -> String = { text, _ in text }) {
        self.quiet = quiet
        self.phrase = phrase
    }

    /// An error as log lines show it: what failed and what to do about it.
    package func describe(_ error: WorkQueueError) -> String {
        error.phrased(phrase)
    }

    /// An informational line (suppressed by `--quiet`).
    package func info(_ line: String) {
        if !quiet { Log.write(line, to: STDERR_FILENO) }
    }

    /// A line that is always shown: warnings, errors and summaries.
    package func always(_ line: String) {
        Log.write(line, to: STDERR_FILENO)
    }

    /// The line for a first connection that will be tried again (see `retryWhileUnreachable`).
    package func unreachable(_ error: WorkQueueError, retryingIn delay: Duration) {
        always("not connected yet (\(describe(error))); trying again in \(Format.seconds(delay)) s")
    }

    /// A line on standard output.
    package func output(_ line: String) {
        Log.write(line, to: STDOUT_FILENO)
    }

    /// Writes one line with its newline, retrying short writes.
    package static func write(_ line: String, to fd: Int32) {
        writeRaw(line + "\n", to: fd)
    }

    /// Writes text as it is, retrying short writes.
    package static func writeRaw(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return
                }
                offset += n
            }
        }
    }
}
