#if canImport(Glibc)
import Glibc
#endif
import Core

/// Where the loader's items come from.
package enum ItemSource: Sendable, Equatable {
    /// The items named on the command line.
    case arguments([String])
    /// "0" ... "N-1" (the original loaded "0".."99").
    case count(Int)
    /// One item per line of a file; "-" is standard input.
    case file(String)

    /// The number of items when known before reading.
    package var knownCount: Int? {
        switch self {
        case .arguments(let items): return items.count
        case .count(let n): return n
        case .file: return nil
        }
    }

    /// Opens the source and returns an iterator over its items.
    package func makeIterator() throws -> ItemIterator {
        switch self {
        case .arguments(let items): return ItemIterator(kind: .list(items.map { Array($0.utf8) }))
        case .count(let n): return ItemIterator(kind: .count(n))
        case .file(let path):
            if path == "-" { return ItemIterator(kind: .reader(ItemReader(fd: STDIN_FILENO), closeFD: nil)) }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw WorkQueueError.usage("--file \(path): \(String(cString: strerror(errno))); check the path")
            }
            var info = stat()
            if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw WorkQueueError.usage("--file \(path): is a directory; name a file with one item per line")
            }
            return ItemIterator(kind: .reader(ItemReader(fd: fd), closeFD: fd))
        }
    }
}

/// Yields the items of an `ItemSource` one at a time.
package struct ItemIterator {
    enum Kind {
        case list([[UInt8]])
        case count(Int)
        case reader(ItemReader, closeFD: Int32?)
    }

    var kind: Kind
    private var index = 0

    init(kind: Kind) {
        self.kind = kind
    }

    /// The next item, or nil at the end; `beforeWaiting` as in `ItemReader.next`.
    package mutating func next(beforeWaiting: () throws -> Void = {}) throws -> [UInt8]? {
        switch kind {
        case .list(let items):
            guard index < items.count else { return nil }
            index += 1
            return items[index - 1]
        case .count(let n):
            guard index < n else { return nil }
            index += 1
            return Array(String(index - 1).utf8)
        case .reader(var reader, let fd):
            let item = try reader.next(beforeWaiting: beforeWaiting)
            kind = .reader(reader, closeFD: fd)
            if item == nil, let fd {
                close(fd)
                kind = .reader(reader, closeFD: nil)
            }
            return item
        }
    }
}
