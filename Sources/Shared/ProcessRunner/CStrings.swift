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
