import Core
/// Walks command-line arguments: `--name value`, `--name=value`, positionals, and `--` after
/// which everything is positional (the work command).
package struct ArgumentScanner {
    /// One step of the walk.
    package enum Token: Equatable {
        case option(String)
        case positional(String)
        case terminator
    }

    private var arguments: [String]
    private var index = 0
    private var inlineValue: String?

    package init(_ arguments: [String]) {
        self.arguments = arguments
    }

    /// The next token, or nil at the end.
    package mutating func next() -> Token? {
        guard index < arguments.count else { return nil }
        let argument = arguments[index]
        index += 1
        inlineValue = nil
        if argument == "--" { return .terminator }
        if argument.hasPrefix("--"), argument.count > 2 {
            if let equals = argument.firstIndex(of: "=") {
                inlineValue = String(argument[argument.index(after: equals)...])
                return .option(String(argument[..<equals]))
            }
            return .option(argument)
        }
        if argument.hasPrefix("-"), argument.count > 1 {
            return .option(argument)
        }
        return .positional(argument)
    }

    /// Everything after the current position (used after `--`).
    package mutating func rest() -> [String] {
        defer { index = arguments.count }
        return Array(arguments[index...])
    }

    /// The value of the option just read: `--name=value` or the next argument.
    package mutating func value(for option: String) throws -> String {
        if let inline = inlineValue {
            inlineValue = nil
            return inline
        }
        guard index < arguments.count else {
            throw WorkQueueError.usage("\(option) needs a value; see --help")
        }
        defer { index += 1 }
        return arguments[index]
    }

    /// The value of the option just read, as a whole number within `range`.
    package mutating func integer(for option: String, in range: ClosedRange<Int>) throws -> Int {
        let text = try value(for: option)
        guard let number = Int(text), range.contains(number) else {
            throw WorkQueueError.usage(
                "\(option) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// The value of the option just read, as seconds (a decimal number within `range`).
    package mutating func seconds(for option: String, in range: ClosedRange<Double>) throws -> Double {
        let text = try value(for: option)
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw WorkQueueError.usage(
                "\(option) must be a number of seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound)), got '\(text)'")
        }
        return number
    }
}
