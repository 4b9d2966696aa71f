#if canImport(Glibc)
import Glibc
#endif

/// How a child ended.
public enum ChildExit: Sendable, Equatable {
    case exited(Int32)
    case signalled(Int32)

    public var succeeded: Bool { self == .exited(0) }

    /// "exit status 3" or "killed by signal 9".
    public var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let sig): return "killed by signal \(sig)"
        }
    }

    /// The number recorded in a dead letter's `x-exit-status` header (128+signal when signalled).
    public var statusNumber: Int64 {
        switch self {
        case .exited(let code): return Int64(code)
        case .signalled(let sig): return 128 + Int64(sig)
        }
    }
}

/// A running work command in its own process group, with its standard input fed the item
/// without blocking (the processor keeps servicing the broker while it writes).
public final class ChildProcess {
    public let pid: pid_t
    /// Write end of the child's stdin, -1 once everything is written or the child stopped reading.
    public private(set) var stdinFD: Int32
    private let input: [UInt8]
    private var written = 0

    /// Starts `argv` with `environment` ("NAME=value" strings). The child gets default signal
    /// handling and an empty signal mask, and leads a new process group.
    public init(argv: [[UInt8]], environment: [[UInt8]], input: [UInt8]) throws {
        let pair = try PipePair.make(what: "a pipe for the command")
        let fds = [pair.read, pair.write]
        defer { close(fds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGTERM, SIGINT, SIGCHLD] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)

        let cArgv = CStrings(argv)
        let cEnv = CStrings(environment)
        defer { cArgv.free(); cEnv.free() }
        var child: pid_t = 0
        let status = posix_spawnp(&child, cArgv.pointers[0]!, &actions, &attributes, cArgv.pointers, cEnv.pointers)
        guard status == 0 else {
            close(fds[1])
            let program = String(decoding: argv.first ?? [], as: UTF8.self)
            throw WorkQueueError.failure("cannot start \(program): \(String(cString: strerror(status)))")
        }
        pid = child
        stdinFD = fds[1]
        self.input = input
        _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
        feedInput()
    }

    /// Writes as much of the item as the pipe takes; closes stdin when done or when the child
    /// stopped reading (EPIPE: many commands never read stdin).
    public func feedInput() {
        guard stdinFD >= 0 else { return }
        while written < input.count {
            let n = input.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, $0.count - written) }
            if n > 0 {
                written += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return }
            break
        }
        close(stdinFD)
        stdinFD = -1
    }

    /// Sends `sig` to the child's whole process group.
    public func signalGroup(_ sig: Int32) {
        _ = kill(-pid, sig)
    }

    /// The exit, if the child has ended (reaps it).
    public func poll() -> ChildExit? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        if stdinFD >= 0 {
            close(stdinFD)
            stdinFD = -1
        }
        let low = status & 0x7F
        if low == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(low)
    }
}

/// NUL-terminated copies of byte strings for `posix_spawn`, freed explicitly.
struct CStrings {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [[UInt8]]) {
        pointers =
            strings.map { bytes in
                let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
                bytes.withUnsafeBytes { raw in
                    UnsafeMutableRawPointer(pointer).copyMemory(from: raw.baseAddress ?? UnsafeRawPointer(pointer), byteCount: bytes.count)
                }
                pointer[bytes.count] = 0
                return pointer
            } + [nil]
    }

    func free() {
        for pointer in pointers { pointer?.deallocate() }
    }
}
