#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Core

/// Where `--receipt` goes: checked when wqtop starts (a path that cannot be written is a usage
/// error, exit 64, before anything runs) and written once at the end, atomically: a temporary
/// file in the same directory, then `rename(2)` over the path.
package struct ReceiptFile: Sendable, Equatable {
    package let path: String

    /// Fails with one usage error when `path` cannot be created or replaced.
    package init(checking path: String) throws {
        self.path = path
        guard !path.isEmpty else { throw WorkQueueError.usage("--receipt needs a file name") }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw WorkQueueError.usage("cannot write the receipt '\(path)': it is a directory")
        }
        // A temporary file created and removed: the directory takes new files (rename needs no more).
        let probe = temporaryPath
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw WorkQueueError.usage("cannot write the receipt '\(path)': \(String(cString: strerror(errno)))")
        }
        close(fd)
        unlink(probe)
    }

    /// Writes `receipt` as one JSON document (sorted keys, a final newline) in place of the file.
    package func write(_ receipt: Receipt) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let encoded = try? encoder.encode(receipt) else {
            throw WorkQueueError.failure("cannot write the receipt '\(path)': it could not be encoded as JSON")
        }
        let bytes = Array(encoded) + [UInt8(ascii: "\n")]
        let temporary = temporaryPath
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = failure("cannot write \(temporary)")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let error = failure("cannot move \(temporary) into place")
            unlink(temporary)
            throw error
        }
    }

    /// Beside the file, so that the rename stays within one file system.
    private var temporaryPath: String { "\(path).\(getpid()).tmp" }

    private func failure(_ what: String) -> WorkQueueError {
        .failure("cannot write the receipt '\(path)': \(what): \(String(cString: strerror(errno)))")
    }
}
