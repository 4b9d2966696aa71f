import CommandLineOptions
import Core
import Drain

/// The command line of `processor` as a pure function: flags over environment over defaults.
extension ProcessorConfiguration {
    /// What the command line asked for: text to print (help, version, a completion script), or a drain.
    package enum Command: Sendable, Equatable {
        case output(String)
        case run(ProcessorConfiguration)
    }

    /// Parses `arguments` (without the program name) over `environment`. Pure apart from reading
    /// `--password-file` and finding the command in `PATH`; every usage error is one
    /// `WorkQueueError.usage`.
    package static func parse(arguments: [String], environment: [String: String]) throws -> Command {
        switch try CommandLineParser.parse(ProcessorCommand.self, arguments) {
        case .output(let text):
            return .output(text)
        case .command(let command):
            return .run(try command.resolve(environment: environment, terminated: arguments.contains("--")))
        }
    }
}
