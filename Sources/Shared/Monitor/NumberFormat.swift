/// Numbers and durations the way the monitor prints them: "12,345", "1.2k/s", "3m05s".
package enum NumberFormat {
    /// Thousands separated by commas.
    package static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// A rate per second, short: "0", "8.5", "312", "12.3k", "4.1M".
    package static func rate(_ value: Double) -> String {
        guard value.isFinite, value > 0 else { return "0" }
        // Beyond any real rate; also keeps the arithmetic below from overflowing.
        guard value < 1e15 else { return ">1e15" }
        if value < 10 { return oneDecimal(value) }
        if value < 10_000 { return String(Int(value.rounded())) }
        if value < 10_000_000 { return oneDecimal(value / 1000) + "k" }
        return oneDecimal(value / 1_000_000) + "M"
    }

    /// A duration: "42s", "3m05s", "2h07m", "3d04h"; "-" when unknown.
    package static func duration(_ seconds: Double?) -> String {
        // Unknown, or beyond 30,000 years (which Int would not even hold for long).
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "-" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(two(s % 60))s" }
        if s < 86_400 { return "\(s / 3600)h\(two(s % 3600 / 60))m" }
        return "\(s / 86_400)d\(two(s % 86_400 / 3600))h"
    }

    /// A short "ago" for last-seen columns: "0.4s", "12s", "3m05s".
    package static func ago(_ seconds: Double) -> String {
        seconds < 10 ? oneDecimal(max(0, seconds)) + "s" : duration(seconds)
    }

    /// An item's duration, short: "<1ms", "12ms", "1.3s", "42s", "3m05s"; "-" when unknown.
    package static func itemTime(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "-" }
        if seconds < 0.001 { return "<1ms" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded(.down)))ms" }
        if seconds < 10 { return oneDecimal(seconds) + "s" }
        return duration(seconds)
    }

    /// A percentage with one decimal, rounded down so that only all done shows 100: "24.7%".
    package static func percent(_ value: Double) -> String {
        let tenths = Int(tenthsDown(value) * 10)
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// `value` rounded down to tenths (0 for anything not finite or below 0).
    package static func tenthsDown(_ value: Double) -> Double {
        guard value.isFinite, value > 0 else { return 0 }
        return (min(value, 1e12) * 10).rounded(.down) / 10
    }

    private static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
