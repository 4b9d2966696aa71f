/// The environment commands start with, as C strings made once: a command per item adds only
/// its own `WORK_ITEM`, instead of copying every variable for every item.
package final class CommandEnvironment {
    private let strings: CStrings
    /// `strings`' pointers, then a slot for one more variable, then the terminating nil.
    private var pointers: [UnsafeMutablePointer<CChar>?]

    /// `entries` are "NAME=value" strings.
    package init(_ entries: [[UInt8]]) {
        strings = CStrings(entries)
        pointers = Array(strings.pointers.dropLast()) + [nil, nil]
    }

    deinit { strings.free() }

    /// Calls `body` with the nil-terminated environment, `extra` ("NAME=value") added when given.
    func withPointers<R>(adding extra: [UInt8]?, _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        guard let extra else { return pointers.withUnsafeBufferPointer { body($0.baseAddress!) } }
        let added = CStrings([extra])
        defer { added.free() }
        let slot = pointers.count - 2
        pointers[slot] = added.pointers[0]
        defer { pointers[slot] = nil }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
