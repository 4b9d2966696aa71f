#if canImport(Glibc)
import Glibc
#endif

/// Reads whole files or descriptors into bytes with plain `read(2)`.
package enum FileBytes {
    /// The file's bytes, or nil when it cannot be opened or read.
    package static func read(path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return read(fd: fd)
    }

    /// All bytes until end of file, or nil on a read error.
    package static func read(fd: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return result }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            result.append(contentsOf: chunk[0..<n])
        }
    }
}
