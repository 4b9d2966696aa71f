#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor that this value alone owns: closed exactly once, by `close()` or when the
/// value goes away, unless it is handed over with `take()`. It cannot be copied, so no second
/// owner can close it again (or close a number the kernel has since given to another file).
/// swift-system's `FileDescriptor` is a copyable number that owns nothing, so it is not used.
package struct OwnedDescriptor: ~Copyable {
    /// The descriptor's number, for calls that only borrow it (`poll`, `read`, `write`).
    package let rawValue: Int32

    /// Takes ownership of `rawValue`, which must be open and owned by nobody else.
    package init(adopting rawValue: Int32) {
        self.rawValue = rawValue
    }

    deinit {
        _ = Glibc.close(rawValue)
    }

    /// Closes the descriptor now (Linux releases it even when `close` reports EINTR: no retry).
    package consuming func close() {
        _ = Glibc.close(rawValue)
        discard self
    }

    /// Gives the descriptor up without closing it: the caller owns the number from now on.
    package consuming func take() -> Int32 {
        let raw = rawValue
        discard self
        return raw
    }

    /// Closes it in the programs this process starts (they get only what is passed on explicitly).
    package func setCloseOnExec() {
        _ = fcntl(rawValue, F_SETFD, FD_CLOEXEC)
    }

    /// Makes reads and writes return EAGAIN instead of blocking.
    package func setNonBlocking() {
        _ = fcntl(rawValue, F_SETFL, fcntl(rawValue, F_GETFL) | O_NONBLOCK)
    }
}
