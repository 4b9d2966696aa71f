import CommandLineOptions
import Core
import Monitor

/// The command line of `wqtop` as a pure function: flags over environment over defaults.
extension MonitorConfiguration {
    /// What the command line asked for: text to print (help, version, a completion script), or a monitor.
    package enum Command: Sendable, Equatable {
        case output(String)
        case run(MonitorConfiguration)
    }

    /// Parses `arguments` (without the program name) over `environment`. Pure apart from reading
    /// `--password-file`; every usage error is one `WorkQueueError.usage`.
    package static func parse(arguments: [String], environment: [String: String]) throws -> Command {
        switch try CommandLineParser.parse(MonitorCommand.self, arguments) {
        case .output(let text):
            return .output(text)
        case .command(let command):
            return .run(try command.resolve(environment: environment, terminated: arguments.contains("--")))
        }
    }
}
