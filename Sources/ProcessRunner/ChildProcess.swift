#if canImport(Glibc)
import Glibc
#endif
import Core

/// How a child ended.
package enum ChildExit: Sendable, Equatable {
    case exited(Int32)
    case signalled(Int32)

    package var succeeded: Bool { self == .exited(0) }

    /// "exit status 3" or "killed by signal 9".
    package var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let sig): return "killed by signal \(sig)"
        }
    }

    /// True when it died of one of `signals`, or exited 128+signal as shells do after one.
    package func endedBy(_ signals: [Int32]) -> Bool {
        switch self {
        case .signalled(let sig): return signals.contains(sig)
        case .exited(let code): return signals.contains { code == 128 + $0 }
        }
    }

    /// The number recorded in a dead letter's `x-exit-status` header (128+signal when signalled).
    package var statusNumber: Int64 {
        switch self {
        case .exited(let code): return Int64(code)
        case .signalled(let sig): return 128 + Int64(sig)
        }
    }
}

/// A running work command in its own process group, with its standard input fed without
/// blocking (the processor keeps servicing the broker while it writes). A streaming child
/// (a `--stdio` worker) keeps stdin open for more input and has its stdout read by the processor.
package final class ChildProcess {
    package let pid: pid_t
    /// Write end of the child's stdin, -1 once closed (all written, or the child stopped reading).
    package private(set) var stdinFD: Int32
    /// Read end of the child's stdout when streaming, -1 otherwise or after end of file.
    package private(set) var stdoutFD: Int32 = -1
    private var input: [UInt8]
    private var written = 0
    private let streaming: Bool
    /// The read buffer for a streaming child's stdout.
    private var chunk: [UInt8] = []

    /// Starts `argv` with `environment` ("NAME=value" strings). The child gets default signal
    /// handling and an empty signal mask, and leads a new process group.
    /// `executable` is the program's path when known; otherwise `argv[0]` is searched in `PATH`.
    package init(argv: [[UInt8]], environment: [[UInt8]], input: [UInt8], streaming: Bool = false, executable: String? = nil) throws {
        let pair = try PipePair.make(what: "a pipe for the command")
        let output = streaming ? try PipePair.make(what: "a pipe for the worker's output") : nil
        let fds = [pair.read, pair.write]
        defer {
            close(fds[0])
            if let output { close(output.write) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO)
        if let output { posix_spawn_file_actions_adddup2(&actions, output.write, STDOUT_FILENO) }

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
        let status =
            if let executable {
                posix_spawn(&child, executable, &actions, &attributes, cArgv.pointers, cEnv.pointers)
            } else {
                posix_spawnp(&child, cArgv.pointers[0]!, &actions, &attributes, cArgv.pointers, cEnv.pointers)
            }
        guard status == 0 else {
            close(fds[1])
            if let output { close(output.read) }
            let program = String(decoding: argv.first ?? [], as: UTF8.self)
            throw WorkQueueError.failure("cannot start \(program): \(String(cString: strerror(status)))")
        }
        pid = child
        stdinFD = fds[1]
        self.input = input
        self.streaming = streaming
        _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
        if let output {
            stdoutFD = output.read
            _ = fcntl(stdoutFD, F_SETFL, fcntl(stdoutFD, F_GETFL) | O_NONBLOCK)
        }
        feedInput()
    }

    deinit {
        if stdinFD >= 0 { close(stdinFD) }
        if stdoutFD >= 0 { close(stdoutFD) }
    }

    /// True while input is written only partly (wait for the pipe to take more).
    package var hasPendingInput: Bool { stdinFD >= 0 && written < input.count }

    /// Queues more input for a streaming child; false when its stdin is already closed.
    @discardableResult
    package func send(_ bytes: [UInt8]) -> Bool {
        guard stdinFD >= 0 else { return false }
        if written == input.count {
            input.removeAll(keepingCapacity: true)
            written = 0
        }
        input += bytes
        feedInput()
        return true
    }

    /// Closes stdin: a streaming worker sees end of file and should finish.
    package func closeInput() {
        guard stdinFD >= 0 else { return }
        close(stdinFD)
        stdinFD = -1
    }

    /// Writes as much input as the pipe takes. A one-shot child's stdin is closed when all is
    /// written; any child's when it stopped reading (EPIPE: many commands never read stdin).
    package func feedInput() {
        guard stdinFD >= 0 else { return }
        while written < input.count {
            let n = input.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, $0.count - written) }
            if n > 0 {
                written += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return }
            closeInput()
            return
        }
        if !streaming { closeInput() }
    }

    /// Appends what the child wrote to stdout to `buffer`; false at end of file.
    package func readOutput(into buffer: inout [UInt8]) -> Bool {
        guard stdoutFD >= 0 else { return false }
        if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: 65_536) }  // once, not per answer
        while true {
            let n = chunk.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress!, $0.count) }
            if n > 0 {
                buffer += chunk[0..<n]
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return true }
            close(stdoutFD)
            stdoutFD = -1
            return false
        }
    }

    /// Sends `sig` to the child's whole process group.
    package func signalGroup(_ sig: Int32) {
        _ = kill(-pid, sig)
    }

    /// The exit, if the child has ended (reaps it).
    package func poll() -> ChildExit? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        closeInput()
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
