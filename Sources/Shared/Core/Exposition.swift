/// The two formats a Prometheus scrape can get: the text exposition format (version 0.0.4) and
/// OpenMetrics 1.0.0, which Prometheus asks for first in its `Accept` header.
package enum ExpositionFormat: Sendable, Equatable {
    case text
    case openMetrics

    package var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` with a quality above 0, else the text format.
    package static func negotiated(accept: String?) -> ExpositionFormat {
        guard let accept else { return .text }
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingSpaces }
            guard parts.first?.lowercased() == "application/openmetrics-text" else { continue }
            let quality = parts.dropFirst().first { $0.lowercased().hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if quality > 0 { return .openMetrics }
        }
        return .text
    }
}

/// One metric family: a name, a type, a help text and its samples, each with its labels.
/// Written from values (the figures wqtop already holds), not from instruments.
package struct MetricFamily: Sendable, Equatable {
    package enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// A labelled value, or a histogram: cumulative counts per upper bound (ascending, without
    /// +Inf), the sum of the observations and their count.
    package enum Sample: Sendable, Equatable {
        case value([Label], Double)
        case histogram([Label], buckets: [Bucket], sum: Double, count: Int)
    }

    /// A histogram's cumulative count at an upper bound (`le`).
    package struct Bucket: Sendable, Equatable {
        package var le: Double
        package var count: Int

        package init(le: Double, count: Int) {
            self.le = le
            self.count = count
        }
    }

    package struct Label: Sendable, Equatable {
        package var name: String
        package var value: String

        package init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The family's name; a counter's without `_total` (its samples add it).
    package var name: String
    package var kind: Kind
    package var help: String
    /// The unit OpenMetrics announces (`seconds`); the name ends with it.
    package var unit: String?
    package var samples: [Sample]

    package init(_ name: String, _ kind: Kind, help: String, unit: String? = nil, samples: [Sample]) {
        self.name = name
        self.kind = kind
        self.help = help
        self.unit = unit
        self.samples = samples
    }

    /// The families as one page in `format`; OpenMetrics ends with `# EOF`. Families without
    /// samples are left out.
    package static func page(_ families: [MetricFamily], format: ExpositionFormat) -> String {
        var out = ""
        for family in families where !family.samples.isEmpty { family.write(to: &out, format: format) }
        if format == .openMetrics { out += "# EOF\n" }
        return out
    }

    private func write(to out: inout String, format: ExpositionFormat) {
        let sampleName = kind == .counter ? name + "_total" : name
        switch format {
        case .text:
            out += "# HELP \(sampleName) \(Self.escaped(help, quotes: false))\n"
            out += "# TYPE \(sampleName) \(kind.rawValue)\n"
        case .openMetrics:
            out += "# TYPE \(name) \(kind.rawValue)\n"
            if let unit { out += "# UNIT \(name) \(unit)\n" }
            out += "# HELP \(name) \(Self.escaped(help, quotes: true))\n"
        }
        for sample in samples {
            switch sample {
            case .value(let labels, let value):
                out += "\(sampleName)\(Self.labelText(labels)) \(Self.number(value))\n"
            case .histogram(let labels, let buckets, let sum, let count):
                for bucket in buckets {
                    out += "\(name)_bucket\(Self.labelText(labels + [Label("le", Self.number(bucket.le))])) \(bucket.count)\n"
                }
                out += "\(name)_bucket\(Self.labelText(labels + [Label("le", "+Inf")])) \(count)\n"
                out += "\(name)_sum\(Self.labelText(labels)) \(Self.number(sum))\n"
                out += "\(name)_count\(Self.labelText(labels)) \(count)\n"
            }
        }
    }

    private static func labelText(_ labels: [Label]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.name)=\"\(escaped($0.value, quotes: true))\"" }.joined(separator: ",") + "}"
    }

    /// Backslashes and line feeds escaped (and double quotes, in label values and OpenMetrics help).
    private static func escaped(_ text: String, quotes: Bool) -> String {
        // Most names need nothing (a pod name): no copy.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || (quotes && $0 == UInt8(ascii: "\"")) })
        else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Whole numbers without a fraction, others as Swift prints a Double, infinities as +Inf/-Inf.
    package static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
