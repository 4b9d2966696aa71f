/// The `--stdio` line protocol: one item per line on the worker's stdin, one answer per line on
/// its stdout: `ok`, `fail` or `fail: reason`.
package enum StdioFormat: String, Sendable, Equatable {
    /// The item's bytes and "\n"; items holding a newline cannot be sent.
    case lines
    /// The item as a JSON string and "\n"; items must be valid UTF-8.
    case json
}

/// What a worker answered for an item.
package enum StdioReply: Sendable, Equatable {
    case ok
    case fail(String)
    /// A line that is neither `ok` nor `fail...`.
    case protocolError(String)

    /// Parses one line (without its "\n"; a trailing "\r" is ignored).
    package init(line: [UInt8]) {
        var line = line
        if line.last == 0x0D { line.removeLast() }
        let text = String(decoding: line, as: UTF8.self)
        if text == "ok" {
            self = .ok
        } else if text == "fail" {
            self = .fail("the worker answered fail")
        } else if text.hasPrefix("fail:") {
            let reason = text.dropFirst(5).trimmingSpaces
            self = .fail(reason.isEmpty ? "the worker answered fail" : "the worker answered: \(reason)")
        } else {
            self = .protocolError(text)
        }
    }
}

extension StdioFormat {
    /// The line to write for `item`, or why it cannot be sent in this format.
    package func line(for item: [UInt8]) -> Result<[UInt8], StdioEncodingError> {
        switch self {
        case .lines:
            if item.contains(0x0A) {
                return .failure(StdioEncodingError("the item holds a newline, which --stdio-format lines cannot send (use --stdio-format json)"))
            }
            return .success(item + [0x0A])
        case .json:
            guard let text = String(validating: item, as: UTF8.self) else {
                return .failure(StdioEncodingError("the item is not valid UTF-8, which --stdio-format json cannot send"))
            }
            return .success(Self.jsonString(text) + [0x0A])
        }
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        out.reserveCapacity(text.utf8.count + 2)
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0..<0x20: out += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return out
    }
}

/// Why an item cannot be written to a `--stdio` worker.
package struct StdioEncodingError: Error, Sendable, Equatable {
    package let reason: String
    init(_ reason: String) { self.reason = reason }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
