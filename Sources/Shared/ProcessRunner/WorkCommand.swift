#if canImport(Glibc)
import Glibc
#endif
import Core

/// The user's command for one item: `{}` in any argument is replaced by the item, the item is
/// written to its standard input and, when it fits, set in `WORK_ITEM`.
package struct WorkCommand: Sendable, Equatable {
    package var arguments: [String]
    /// The program's path, found in `PATH` once by `validate` (nil: `posix_spawnp` searches it,
    /// trying every directory before the right one for every item).
    package var executable: String?

    /// The longest item put in `WORK_ITEM` (Linux limits one environment string to 128 KiB).
    package static let environmentItemLimit = 131_072 - "WORK_ITEM=".utf8.count - 1

    package init(arguments: [String]) {
        self.arguments = arguments
    }

    /// Fails unless the program exists and is executable (an absolute or relative path, or a
    /// name found in `PATH`), so a typo stops the processor at once instead of failing every item.
    package mutating func validate(path: String?) throws(WorkQueueError) {
        guard let program = arguments.first, !program.isEmpty else {
            throw WorkQueueError.usage("no command after --; see processor --help")
        }
        if program.contains("/") {
            guard access(program, X_OK) == 0 else {
                throw WorkQueueError.usage("command \(program): not found or not executable")
            }
            return
        }
        let found = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").first { dir in
            !dir.isEmpty && access("\(dir)/\(program)", X_OK) == 0
        }
        guard let found else {
            throw WorkQueueError.usage("command \(program): not found in PATH")
        }
        if found.hasPrefix("/") { executable = "\(found)/\(program)" }
    }

    /// The argument vector for one item, or nil when an argument would need a NUL byte.
    package func argv(for item: [UInt8]) -> [[UInt8]]? {
        let placeholder: [UInt8] = [0x7B, 0x7D]  // "{}"
        var result: [[UInt8]] = []
        for argument in arguments {
            let bytes = Array(argument.utf8)
            guard bytes.count >= 2, bytes.indices.dropLast().contains(where: { bytes[$0] == 0x7B && bytes[$0 + 1] == 0x7D }) else {
                result.append(bytes)
                continue
            }
            if item.contains(0) { return nil }
            var out: [UInt8] = []
            var i = 0
            while i < bytes.count {
                if i + 1 < bytes.count, bytes[i] == placeholder[0], bytes[i + 1] == placeholder[1] {
                    out.append(contentsOf: item)
                    i += 2
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            result.append(out)
        }
        return result
    }
}
