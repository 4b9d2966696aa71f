import FoundationEssentials

/// Events as one line of JSON with sorted keys, the same bytes for the same event.
package enum JSONLine {
    package static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(value))) ?? []
    }
}
