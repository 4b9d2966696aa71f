#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform

/// A running work command in its own process group, with its standard input fed without
/// blocking (the processor keeps servicing the broker while it writes). A streaming child
/// (a `--stdio` worker) keeps stdin open for more input and has its stdout read by the processor.
package final class ChildProcess {
    package let pid: pid_t
    /// How it ended, once reaped by `poll`; from then on it is sent no signal (its pid may be reused).
    package private(set) var exit: ChildExit?
    /// Write end of the child's stdin, nil once closed (all written, or the child stopped reading).
    private var stdin: OwnedDescriptor?
    /// Read end of the child's stdout when streaming, nil otherwise or after end of file.
    private var stdout: OwnedDescriptor?
    private var input: [UInt8]
    private var written = 0
    private let streaming: Bool
    /// True while a command started ahead waits for its item (`give`): its stdin stays open and
    /// empty, so it blocks on its first read.
    package private(set) var awaitingInput: Bool
    /// The read buffer for a streaming child's stdout.
    private var chunk: [UInt8] = []

    /// Starts `argv` with `environment` ("NAME=value" strings). The child gets the default action
    /// for every signal and an empty signal mask, and leads a new process group (`SpawnAttributes`).
    /// `executable` is the program's path when known; otherwise `argv[0]` is searched in `PATH`.
    /// `pipe` makes the pipes (tests pass one that fails); whatever was opened before a failure
    /// is closed.
    package convenience init(
        argv: [[UInt8]], environment: [[UInt8]], input: [UInt8], streaming: Bool = false, executable: String? = nil,
        pipe: PipePair.PipeCall = PipePair.systemPipe
    ) throws(WorkQueueError) {
        try self.init(
            argv: argv, environment: CommandEnvironment(environment), input: input, streaming: streaming, executable: executable,
            pipe: pipe)
    }

    /// Starts `argv` with `environment`, and `extraVariable` ("NAME=value") when given: the
    /// processor's commands, whose environment is made once. `input` nil starts a command ahead
    /// of its item, which `give` hands it later.
    package init(
        argv: [[UInt8]], environment: CommandEnvironment, adding extraVariable: [UInt8]? = nil, input: [UInt8]?,
        streaming: Bool = false, executable: String? = nil, pipe: PipePair.PipeCall = PipePair.systemPipe
    ) throws(WorkQueueError) {
        let inputPipe = try PipePair.make(what: "a pipe for the command", pipe: pipe)
        var outputPipe: PipePair? = nil
        if streaming { outputPipe = try PipePair.make(what: "a pipe for the worker's output", pipe: pipe) }

        // Every other descriptor of the processor is close-on-exec (its pipes, the broker
        // sockets), so the child needs no action to close them.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe.read.rawValue, STDIN_FILENO)
        if let childEnd = outputPipe?.write.rawValue { posix_spawn_file_actions_adddup2(&actions, childEnd, STDOUT_FILENO) }

        let cArgv = CStrings(argv)
        defer { cArgv.free() }
        var child: pid_t = 0
        let attributes = SpawnAttributes.shared.pointer
        let status = environment.withPointers(adding: extraVariable) { env in
            if let executable {
                posix_spawn(&child, executable, &actions, attributes, cArgv.pointers, env)
            } else {
                posix_spawnp(&child, cArgv.pointers[0]!, &actions, attributes, cArgv.pointers, env)
            }
        }
        guard status == 0 else {
            // Both pipes close as they go out of scope.
            let program = String(decoding: argv.first ?? [], as: UTF8.self)
            throw WorkQueueError.failure("cannot start \(program): \(String(cString: strerror(status)))")
        }
        pid = child
        // The child's ends are the child's now.
        stdin = .some(inputPipe.keepingWriteEnd())
        if let output = outputPipe.take() {
            stdout = .some(output.keepingReadEnd())
        }
        self.input = input ?? []
        self.awaitingInput = input == nil
        self.streaming = streaming
        feedInput()
    }

    /// Hands a command started ahead (`input` nil) its input, written as for any command. A child
    /// reaped already (it ended before: one that never reads stdin) is handed nothing: its exit
    /// stands. The caller polls first (one `waitpid` per item, not two).
    package func give(_ bytes: [UInt8]) {
        guard awaitingInput else { return }
        awaitingInput = false
        if exit != nil { return }
        input = bytes
        written = 0
        feedInput()
    }

    /// The write end of the child's stdin for `poll(2)`, -1 once closed.
    package var stdinFD: Int32 { stdin?.rawValue ?? -1 }
    /// The read end of a streaming child's stdout for `poll(2)`, -1 when none or after end of file.
    package var stdoutFD: Int32 { stdout?.rawValue ?? -1 }

    /// True while input is written only partly (wait for the pipe to take more).
    package var hasPendingInput: Bool { stdin != nil && written < input.count }

    /// Queues more input for a streaming child; false when its stdin is already closed.
    @discardableResult
    package func send(_ bytes: [UInt8]) -> Bool {
        guard stdin != nil else { return false }
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
        stdin.take()?.close()
    }

    /// Writes as much input as the pipe takes. A one-shot child's stdin is closed when all is
    /// written; any child's when it stopped reading (EPIPE: many commands never read stdin).
    package func feedInput() {
        guard let fd = stdin?.rawValue, !awaitingInput else { return }
        while written < input.count {
            let n = input.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
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
        guard let fd = stdout?.rawValue else { return false }
        if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: 65_536) }  // once, not per answer
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n > 0 {
                buffer += chunk[0..<n]
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return true }
            stdout.take()?.close()
            return false
        }
    }

    /// Sends `sig` to the child's whole process group, unless the child was already reaped.
    package func signalGroup(_ sig: Int32) {
        guard exit == nil else { return }
        _ = kill(-pid, sig)
    }

    /// The exit, if the child has ended (reaps it once; later calls return the same exit).
    package func poll() -> ChildExit? {
        if let exit { return exit }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        closeInput()
        let low = status & 0x7F
        exit = low == 0 ? .exited((status >> 8) & 0xFF) : .signalled(low)
        return exit
    }
}
