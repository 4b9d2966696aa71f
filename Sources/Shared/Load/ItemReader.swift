#if canImport(Glibc)
import Glibc
#endif
import Core

/// Reads work items from a file descriptor, one per line: each item is the line exactly as
/// written without its `\n` or `\r\n`; empty lines are skipped. Reads in chunks, so a load of
/// millions of lines never sits in memory whole.
package struct ItemReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the next newline goes on: the bytes before it hold none. A long line
    /// comes in many reads, and is searched once, not once per read.
    private var searched = 0
    private var atEnd = false

    package init(fd: Int32) {
        self.fd = fd
    }

    /// The next item, nil at the end. Throws when reading fails. `beforeWaiting` runs before a
    /// read that would wait for input (a slow producer on a pipe): the loader writes what it
    /// has queued then, so items already read do not wait for the next ones.
    package mutating func next(beforeWaiting: () throws -> Void = {}) throws -> [UInt8]? {
        while true {
            if let newline = buffer[max(start, searched)...].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<newline])
                start = newline + 1
                searched = start
                if line.last == 0x0D { line.removeLast() }
                if line.isEmpty { continue }
                return line
            }
            searched = buffer.count
            if atEnd {
                guard start < buffer.count else { return nil }
                var line = Array(buffer[start...])
                start = buffer.count
                if line.last == 0x0D { line.removeLast() }
                return line.isEmpty ? nil : line
            }
            try fill(beforeWaiting: beforeWaiting)
        }
    }

    private mutating func fill(beforeWaiting: () throws -> Void) throws {
        if start > 0 {
            buffer.removeFirst(start)
            searched -= start
            start = 0
        }
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&ready, 1, 0) == 0 { try beforeWaiting() }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw WorkQueueError.failure("reading items: \(String(cString: strerror(errno)))")
            }
            if n == 0 { atEnd = true } else { buffer.append(contentsOf: chunk[0..<n]) }
            return
        }
    }
}
