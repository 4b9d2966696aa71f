import CRabbitMQ

/// A header or argument value the project sends.
public enum HeaderValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
}

/// Builds temporary `amqp_table_t`s from Swift values and reads received ones.
enum AMQPTable {
    /// Calls `body` with a table whose memory lives for the duration of the call.
    static func with<R>(_ entries: [(String, HeaderValue)], _ body: (amqp_table_t) -> R) -> R {
        if entries.isEmpty { return body(amqp_empty_table) }
        var owned: [amqp_bytes_t] = []
        defer { owned.forEach { amqp_bytes_free($0) } }
        var cEntries: [amqp_table_entry_t] = []
        for (key, value) in entries {
            var entry = amqp_table_entry_t()
            let keyBytes = AMQPBytes.copy(key)
            owned.append(keyBytes)
            entry.key = keyBytes
            switch value {
            case .string(let text):
                let bytes = AMQPBytes.copy(text)
                owned.append(bytes)
                entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                entry.value.value.bytes = bytes
            case .int(let number):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                entry.value.value.i64 = number
            }
            cEntries.append(entry)
        }
        return cEntries.withUnsafeMutableBufferPointer { buffer in
            body(amqp_table_t(num_entries: Int32(buffer.count), entries: buffer.baseAddress))
        }
    }

    /// Reads a received table into Swift values (strings and integers; other kinds are skipped).
    static func read(_ table: amqp_table_t) -> [String: HeaderValue] {
        var result: [String: HeaderValue] = [:]
        guard table.num_entries > 0, let entries = table.entries else { return result }
        for i in 0..<Int(table.num_entries) {
            let entry = entries[i]
            let key = AMQPBytes.string(entry.key)
            let v = entry.value.value
            switch Int(entry.value.kind) {
            case Int(AMQP_FIELD_KIND_UTF8.rawValue), Int(AMQP_FIELD_KIND_BYTES.rawValue):
                result[key] = .string(AMQPBytes.string(v.bytes))
            case Int(AMQP_FIELD_KIND_I8.rawValue): result[key] = .int(Int64(v.i8))
            case Int(AMQP_FIELD_KIND_U8.rawValue): result[key] = .int(Int64(v.u8))
            case Int(AMQP_FIELD_KIND_I16.rawValue): result[key] = .int(Int64(v.i16))
            case Int(AMQP_FIELD_KIND_U16.rawValue): result[key] = .int(Int64(v.u16))
            case Int(AMQP_FIELD_KIND_I32.rawValue): result[key] = .int(Int64(v.i32))
            case Int(AMQP_FIELD_KIND_U32.rawValue): result[key] = .int(Int64(v.u32))
            case Int(AMQP_FIELD_KIND_I64.rawValue): result[key] = .int(v.i64)
            case Int(AMQP_FIELD_KIND_U64.rawValue): result[key] = .int(Int64(truncatingIfNeeded: v.u64))
            case Int(AMQP_FIELD_KIND_TIMESTAMP.rawValue): result[key] = .int(Int64(truncatingIfNeeded: v.u64))
            default: continue
            }
        }
        return result
    }
}
