import Core

/// Turns the text of a flag or environment variable into a checked value, with the message the
/// user sees when it is out of range. Options are read as text so that these messages, not the
/// parser's generic ones, say what is allowed.
package enum OptionValue {
    /// A whole number within `range`, or nil when the option was not given.
    package static func integer(_ text: String?, _ option: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw WorkQueueError.usage(
                "\(option) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// Seconds (a decimal number within `range`), or nil when the option was not given.
    package static func seconds(_ text: String?, _ option: String, in range: ClosedRange<Double>) throws -> Duration? {
        guard let text else { return nil }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw WorkQueueError.usage(
                "\(option) must be a number of seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound)), got '\(text)'")
        }
        return .seconds(number)
    }

    /// The text itself, which must not be empty, or nil when the option was not given.
    package static func nonEmpty(_ text: String?, _ option: String) throws -> String? {
        guard let text else { return nil }
        guard !text.isEmpty else { throw WorkQueueError.usage("\(option) must not be empty") }
        return text
    }
}
