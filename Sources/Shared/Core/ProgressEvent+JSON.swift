/// A progress event written as JSON by hand: a processor sends one before every batch of
/// acknowledgements, and `JSONEncoder` cost about ten times as much per event. The output is
/// what `JSONLine` would write (sorted keys, absent optionals left out); `ProgressEventJSONTests`
/// holds the two to the same bytes.
extension ProgressEvent {
    /// The event as one line of JSON.
    package func encoded() -> [UInt8] {
        var out = JSONBytes()
        out.open()
        if let consumerTimeoutMS { out.field("consumer_timeout_ms", consumerTimeoutMS) }
        if let copies { out.field("copies", copies) }
        if let copiesSeen { out.field("copies_seen", copiesSeen) }
        if let copying { out.field("copying", copying) }
        if let current { out.field("current", current) }
        out.field("dead_lettered", deadLettered)
        if let durations {
            out.key("durations")
            out.open()
            out.key("buckets")
            out.bytes.append(UInt8(ascii: "["))
            for (i, b) in durations.buckets.enumerated() {
                if i > 0 { out.bytes.append(UInt8(ascii: ",")) }
                out.bytes.append(UInt8(ascii: "["))
                out.number(b.bucket)
                out.bytes.append(UInt8(ascii: ","))
                out.number(b.count)
                out.bytes.append(UInt8(ascii: "]"))
            }
            out.bytes.append(UInt8(ascii: "]"))
            out.field("count", durations.count)
            out.field("max", durations.max)
            out.field("min", durations.min)
            out.field("p50", durations.p50)
            out.field("p95", durations.p95)
            out.field("sum", durations.sum)
            out.close()
        }
        if let exitCode { out.field("exit_code", Int(exitCode)) }
        out.field("failed", failed)
        out.field("in_hand", inHand)
        out.field("instance", instance)
        if let omitted { out.field("omitted", omitted) }
        out.field("pod", pod)
        out.field("processed", processed)
        out.field("queue", queue)
        out.field("rate", rate)
        if let redelivered { out.field("redelivered", redelivered) }
        if let redeliveredSeen { out.field("redelivered_seen", redeliveredSeen) }
        out.field("retried", retried)
        if let runningFor { out.field("running_for", runningFor) }
        out.field("sent_at", sentAt)
        out.field("seq", seq)
        out.field("started_at", startedAt)
        out.field("state", state.rawValue)
        if let unsettled { out.field("unsettled", unsettled) }
        out.field("v", v)
        out.close()
        return out.bytes
    }
}

/// Builds one JSON object's bytes: keys in the order given, commas where they belong.
struct JSONBytes {
    var bytes: [UInt8] = []
    private var first = true

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        first = true
    }

    mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    mutating func key(_ name: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: String, _ values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ name: String, _ value: Int) {
        key(name)
        number(value)
    }

    mutating func field(_ name: String, _ value: Double) {
        key(name)
        // Never written by a sane event; JSON has no infinity or NaN.
        guard value.isFinite else { return bytes.append(UInt8(ascii: "0")) }
        // Whole numbers as integers, as JSONEncoder writes them; others in Swift's shortest
        // round-trip form ("47.2", "1e-05"), which JSON reads.
        if value == value.rounded(), abs(value) < 1e15 {
            number(Int(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    mutating func number(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A JSON string: quote, backslash and control characters escaped, the rest as UTF-8.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "/"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "/")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
