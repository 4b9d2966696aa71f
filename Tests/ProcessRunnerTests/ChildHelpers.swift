#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import ProcessRunner

/// Starts `/bin/sh -c script` as a streaming child (its stdout readable, its stdin kept open).
func startShell(_ script: String) throws -> ChildProcess {
    try ChildProcess(
        argv: [Array("/bin/sh".utf8), Array("-c".utf8), Array(script.utf8)], environment: [Array("PATH=/usr/bin:/bin".utf8)],
        input: [], streaming: true, executable: "/bin/sh")
}

/// The first line the child writes, waited for up to `timeout` (a script says "ready"
/// once its traps are set, so a signal sent afterwards meets them).
func firstLine(of child: ChildProcess, timeout: Duration = .seconds(5)) -> String? {
    var buffer: [UInt8] = []
    let until = MonotonicClock.now() + timeout
    while MonotonicClock.now() < until {
        let open = child.readOutput(into: &buffer)
        if let newline = buffer.firstIndex(of: 0x0A) { return String(decoding: buffer[..<newline], as: UTF8.self) }
        if !open { return nil }
        Sleep.for(.milliseconds(5))
    }
    return nil
}

/// Reaps the child, waiting up to `timeout`; nil if it is still running.
func waitForExit(_ child: ChildProcess, timeout: Duration = .seconds(5)) -> ChildExit? {
    let until = MonotonicClock.now() + timeout
    while MonotonicClock.now() < until {
        if let exit = child.poll() { return exit }
        Sleep.for(.milliseconds(5))
    }
    return nil
}

/// True once `pid` is gone or a zombie (an orphan waits there for init, which may be slow to reap
/// in a container), checked for up to `timeout`.
func processEnded(_ pid: pid_t, timeout: Duration = .seconds(2)) -> Bool {
    let until = MonotonicClock.now() + timeout
    while true {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        if let stat = FileBytes.read(path: "/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count, stat[close + 2] == UInt8(ascii: "Z")
        {
            return true
        }
        if MonotonicClock.now() >= until { return false }
        Sleep.for(.milliseconds(10))
    }
}

/// Which file an open descriptor refers to (device and inode); nil when the number is closed.
/// Pipes get inodes of their own, so a number reused for another file compares unequal.
struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    init?(_ fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
