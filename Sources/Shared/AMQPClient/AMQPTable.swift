internal import CRabbitMQ
import Core

/// Builds temporary `amqp_table_t`s from Swift values and reads received ones.
enum AMQPTable {
    /// Calls `body` with a table whose memory lives for the duration of the call: the entries
    /// of `base` (a table in wire encoding, every field kind kept) except those named in
    /// `entries` or `dropping`, then `entries`.
    static func with<R>(
        _ entries: [(String, HeaderValue)], over base: [UInt8]? = nil, dropping: Set<String> = [],
        _ body: (amqp_table_t) -> R
    ) -> R {
        guard var encoded = base else { return build(entries, after: [], body) }
        var pool = amqp_pool_t()
        init_amqp_pool(&pool, 4096)
        defer { empty_amqp_pool(&pool) }
        // Decoded strings point into `encoded`, so everything happens inside this closure.
        return encoded.withUnsafeMutableBytes { raw in
            var table = amqp_table_t()
            var offset = 0
            var kept: [amqp_table_entry_t] = []
            let status = amqp_decode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &pool, &table, &offset)
            if status == AMQP_STATUS_OK.rawValue, table.num_entries > 0, let decoded = table.entries {
                let replaced = dropping.union(entries.map(\.0))
                for i in 0..<Int(table.num_entries) where !replaced.contains(AMQPBytes.string(decoded[i].key)) {
                    kept.append(decoded[i])
                }
            }
            return build(entries, after: kept, body)
        }
    }

    private static func build<R>(_ entries: [(String, HeaderValue)], after kept: [amqp_table_entry_t], _ body: (amqp_table_t) -> R) -> R {
        if entries.isEmpty && kept.isEmpty { return body(amqp_empty_table) }
        var owned: [amqp_bytes_t] = []
        defer { owned.forEach { amqp_bytes_free($0) } }
        var cEntries = kept
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

    /// The wire encoding of a received table (nil if it cannot be encoded, which a table the
    /// library just decoded always can).
    static func encode(_ table: amqp_table_t) -> [UInt8]? {
        var table = table
        var size = 1024
        while size <= 1 << 28 {
            var buffer = [UInt8](repeating: 0, count: size)
            var offset = 0
            let status = buffer.withUnsafeMutableBytes { raw in
                amqp_encode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &table, &offset)
            }
            if status == AMQP_STATUS_OK.rawValue { return Array(buffer[..<offset]) }
            guard status == AMQP_STATUS_TABLE_TOO_BIG.rawValue else { return nil }
            size *= 4
        }
        return nil
    }

    /// Reads a table in wire encoding (strings and integers, as `read`).
    static func read(encoded: [UInt8]) -> [String: HeaderValue] {
        var result: [String: HeaderValue] = [:]
        with([], over: encoded) { table in result = read(table) }
        return result
    }
}
