#if canImport(Glibc)
import Glibc
#endif
import Core

/// Both ends of a pipe, each owned once and close-on-exec (pipe2 is not visible to Swift without
/// _GNU_SOURCE; the processor is single-threaded, so setting the flag afterwards races with no
/// spawn). Whatever is not moved out is closed when the pair goes away, on error paths too.
package struct PipePair: ~Copyable {
    package var read: OwnedDescriptor
    package var write: OwnedDescriptor

    /// The `pipe(2)` call: `systemPipe` except in tests that make it fail.
    package typealias PipeCall = @Sendable (UnsafeMutablePointer<Int32>) -> Int32

    /// `pipe(2)` itself.
    package static let systemPipe: PipeCall = { Glibc.pipe($0) }

    /// Creates a pipe; `what` names it in the error ("cannot create a pipe for the command: ...").
    package static func make(what: String, nonBlocking: Bool = false, pipe: PipeCall = systemPipe)
        throws(WorkQueueError) -> PipePair
    {
        var fds: [Int32] = [-1, -1]
        guard fds.withUnsafeMutableBufferPointer({ pipe($0.baseAddress!) }) == 0 else {
            throw WorkQueueError.failure("cannot create \(what): \(String(cString: strerror(errno)))")
        }
        let pair = PipePair(read: OwnedDescriptor(adopting: fds[0]), write: OwnedDescriptor(adopting: fds[1]))
        pair.read.setCloseOnExec()
        pair.write.setCloseOnExec()
        if nonBlocking {
            pair.read.setNonBlocking()
            pair.write.setNonBlocking()
        }
        return pair
    }

    /// Keeps the write end (non-blocking) for this process and closes the read end, which a
    /// child has now: the parent's side of a child's standard input.
    package consuming func keepingWriteEnd() -> OwnedDescriptor {
        read.close()
        write.setNonBlocking()
        return write
    }

    /// Keeps the read end (non-blocking) and closes the write end: the parent's side of a
    /// child's standard output.
    package consuming func keepingReadEnd() -> OwnedDescriptor {
        write.close()
        read.setNonBlocking()
        return read
    }
}
