/// Formats numbers the way the logs print them.
package enum Format {
    /// Seconds with two decimals: "1.25".
    package static func seconds(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    /// A rate rounded to a whole number: "28431".
    package static func rate(_ count: Int, _ seconds: Double) -> String {
        guard seconds > 0 else { return "\(count)" }
        return "\(Int((Double(count) / seconds).rounded()))"
    }
}
