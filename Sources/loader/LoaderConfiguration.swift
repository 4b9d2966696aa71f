import Core
import Load
import CommandLineOptions

/// The command line of `loader`: help text and parsing, flags over environment over defaults.
extension LoaderConfiguration {
    /// What the command line asked for: help text, or a load.
    package enum Command: Sendable, Equatable {
        case help(String)
        case run(LoaderConfiguration)
    }

    package static let help = """
        Usage: loader [OPTIONS] [ITEM...]
               loader --count N | --file PATH | --from-failed

        Puts work items into the work queue as persistent messages and exits 0 only when the
        broker has confirmed every one. With no items named it loads "0".."99".

        Items:
          ITEM...                 load these items
          --count N               load "0".."N-1"
          --file PATH             one item per line (without its \\n or \\r\\n; empty lines are
                                  skipped); - reads standard input
          --from-failed           move every item of the dead-letter queue QUEUE.failed back
                                  into the work queue, with a fresh attempt count
        Output:
          --quiet                 print only errors and the final summary
          --reconnect-timeout S   keep reconnecting for this long after losing the broker (300)

        """ + ConnectionOptions.helpText + """


        Exit codes: 0 all confirmed, 1 runtime failure (the error says how many were confirmed),
        64 usage or configuration error, 69 broker unreachable, 77 access refused.
        """

    /// Parses flags over environment over defaults. Pure apart from reading `--password-file`.
    package static func parse(arguments: [String], environment: [String: String]) throws -> Command {
        var scanner = ArgumentScanner(arguments)
        var options = ConnectionOptions()
        var items: [String] = []
        var count: Int?
        var file: String?
        var quiet = false
        var fromFailed = false
        var reconnect: Double?
        while let token = scanner.next() {
            switch token {
            case .terminator: items.append(contentsOf: scanner.rest())
            case .positional(let item): items.append(item)
            case .option(let name):
                if try options.consume(name, from: &scanner) { continue }
                switch name {
                case "-h", "--help": return .help(help)
                case "--count": count = try scanner.integer(for: name, in: 0...Int(Int32.max))
                case "--file": file = try scanner.value(for: name)
                case "--quiet", "-q": quiet = true
                case "--from-failed": fromFailed = true
                case "--reconnect-timeout": reconnect = try scanner.seconds(for: name, in: 0...86_400)
                default: throw WorkQueueError.usage("unknown option \(name); see loader --help")
                }
            }
        }
        let sources = [!items.isEmpty, count != nil, file != nil, fromFailed].filter { $0 }.count
        guard sources <= 1 else {
            throw WorkQueueError.usage("name items one way only: ITEM..., --count, --file or --from-failed")
        }
        var config = LoaderConfiguration(connection: try options.resolve(environment: environment))
        if !items.isEmpty { config.source = .arguments(items) }
        if let count { config.source = .count(count) }
        if let file { config.source = .file(file) }
        config.quiet = quiet
        config.fromFailed = fromFailed
        if let reconnect { config.reconnectTimeout = reconnect }
        return .run(config)
    }
}
