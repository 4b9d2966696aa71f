import ArgumentParser
import Core

/// What a command line asked for: text to print and exit 0 (`--help`, `--version`,
/// `--generate-completion-script`), or the parsed command.
package enum ParsedCommandLine<Command: ParsableCommand> {
    case output(String)
    case command(Command)
}

/// Runs ArgumentParser over a tool's arguments without letting it print or exit: every usage
/// error, the parser's own included, becomes one `WorkQueueError.usage` line (exit 64).
package enum CommandLineParser {
    package static func parse<Command: ParsableCommand>(
        _ type: Command.Type, _ arguments: [String]
    ) throws -> ParsedCommandLine<Command> {
        try ConnectionOptions.refusePassword(in: arguments)
        do {
            return .command(try Command.parse(arguments))
        } catch {
            // Help, version and completion scripts come as errors that exit 0.
            if Command.exitCode(for: error) == .success {
                return .output(Command.fullMessage(for: error))
            }
            throw usageError(Command.self, error)
        }
    }

    /// The parser's message in one line (no usage block), lower-cased like ours, with where to
    /// read more.
    static func usageError<Command: ParsableCommand>(_ type: Command.Type, _ error: any Error) -> WorkQueueError {
        let message = Command.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
        let sentence = message.prefix(1).lowercased() + message.dropFirst()
        let help = "\(Command._commandName) --help"
        // "Unknown option '--cont'. Did you mean '--count'?" ends a question.
        return .usage(sentence.hasSuffix("?") ? "\(sentence) See \(help)." : "\(sentence); see \(help)")
    }
}
