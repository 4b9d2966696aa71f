#if canImport(Glibc)
import Glibc
#endif
import Core

/// A pipe whose ends are close-on-exec (pipe2 is not visible to Swift without _GNU_SOURCE;
/// the processor is single-threaded, so setting the flag afterwards races with no spawn).
enum PipePair {
    static func make(what: String, nonBlocking: Bool = false) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw WorkQueueError.failure("cannot create \(what): \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        }
        return (fds[0], fds[1])
    }
}
