#if canImport(Glibc)
import Glibc
#endif

/// How every child starts, set up once per process: it leads a new process group, every signal
/// has its default action and none is blocked.
///
/// Every signal, not only those the processor changed (SIGPIPE ignored, handlers for SIGCHLD,
/// SIGTERM and SIGINT), because that is the cheapest: between clone and exec, glibc 2.36's
/// `posix_spawn` walks all 64 signals in the child whatever the attributes say; a signal in the
/// default set costs one `rt_sigaction` (set SIG_DFL), any other two (ask, then set SIG_DFL unless
/// ignored). With the whole set the child makes 64 calls instead of 124, and the processor stays
/// blocked in `posix_spawn` about 14 µs less per command (bench/notes.md, "The spawn ceiling").
/// So a signal ignored by whoever started the processor (`nohup`'s SIGHUP) is not ignored by its
/// commands: they start as from a fresh shell.
package final class SpawnAttributes: @unchecked Sendable {
    // @unchecked: written only in init; afterwards `posix_spawn` only reads it, from any thread.
    /// The attributes every `ChildProcess` is started with.
    package static let shared = SpawnAttributes()

    let pointer: UnsafeMutablePointer<posix_spawnattr_t>

    private init() {
        pointer = .allocate(capacity: 1)
        posix_spawnattr_init(pointer)
        posix_spawnattr_setflags(pointer, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(pointer, 0)
        var defaults = sigset_t()
        sigfillset(&defaults)
        // Their action cannot be changed: asking would be two failing calls per command.
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(pointer, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(pointer, &mask)
    }

    deinit {
        posix_spawnattr_destroy(pointer)
        pointer.deallocate()
    }
}
