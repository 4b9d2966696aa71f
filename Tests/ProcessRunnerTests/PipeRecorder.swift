#if canImport(Glibc)
import Glibc
#endif
import Synchronization

import ProcessRunner
import Platform

/// A `pipe(2)` stand-in: makes real pipes and remembers each end with the file it refers to,
/// then fails with EMFILE (as when descriptors run out) once `pipesBeforeFailing` were made.
final class PipeRecorder: Sendable {
    private let opened = Mutex<[(fd: Int32, file: FileIdentity?)]>([])
    private let pipesBeforeFailing: Int

    init(pipesBeforeFailing: Int = .max) {
        self.pipesBeforeFailing = pipesBeforeFailing
    }

    /// Every end made so far, in order: read, write, read, write...
    var ends: [(fd: Int32, file: FileIdentity?)] { opened.withLock { $0 } }

    var pipe: PipePair.PipeCall {
        { [self] fds in
            opened.withLock { opened in
                guard opened.count / 2 < pipesBeforeFailing else {
                    errno = EMFILE
                    return -1
                }
                guard Glibc.pipe(fds) == 0 else { return -1 }
                opened.append((fds[0], FileIdentity(fds[0])))
                opened.append((fds[1], FileIdentity(fds[1])))
                return 0
            }
        }
    }

    /// A pipe made through `pipe`: its read and write ends, for owners to adopt.
    func rawPipe() throws -> [Int32] {
        var fds: [Int32] = [-1, -1]
        guard fds.withUnsafeMutableBufferPointer({ pipe($0.baseAddress!) }) == 0 else { throw PipeFailed() }
        return fds
    }

    /// `rawPipe` could not make a pipe.
    struct PipeFailed: Error {}

    /// True when `fd` no longer refers to the file it was made for (closed, or its number reused).
    func isClosed(_ end: (fd: Int32, file: FileIdentity?)) -> Bool {
        FileIdentity(end.fd) != end.file
    }
}
