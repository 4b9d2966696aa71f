import Core
import CommandLineOptions
import Monitor

/// The command line of `wqtop`: help text and parsing, flags over environment over defaults.
extension MonitorConfiguration {
    /// What the command line asked for: help text, or a monitor.
    package enum Command: Sendable, Equatable {
        case help(String)
        case run(MonitorConfiguration)
    }

    package static let help = """
        Usage: wqtop [OPTIONS]

        Shows a work queue while it drains: depth, consumers, throughput, ETA and what each
        processor is doing, from the progress events processors publish. Never consumes from,
        declares or changes the work queue; needs no management plugin.

        Keys: q quit, ? help, arrows/PgUp/PgDn/Home/End scroll, s cycle sort, p pause.

        Monitor:
          --interval SECS         sample the queue this often (1)
          --once                  print one text frame after one interval and exit (with
                                  --exit-when-drained: one frame, at the end)
          --json                  print one JSON object per interval (no terminal needed)
          --exit-when-drained     exit 0 once work was seen and the queue is empty, nothing is
                                  in flight and every processor seen has finished or is lost
          --progress-exchange X   read progress events from fanout exchange X (QUEUE.progress)
          --no-color              no colours (also when NO_COLOR is set)

        """ + ConnectionOptions.helpText + """


        Exit codes: 0 done (q, --once, --exit-when-drained), 64 usage or configuration error,
        69 broker unreachable (--once, --json), 77 access refused, 130 SIGINT, 143 SIGTERM.
        """

    /// Parses flags over environment over defaults.
    package static func parse(arguments: [String], environment: [String: String]) throws -> Command {
        var scanner = ArgumentScanner(arguments)
        var options = ConnectionOptions()
        var config = MonitorConfiguration(connection: ConnectionSettings())
        var exchange: String?
        config.color = (environment["NO_COLOR"] ?? "").isEmpty
        while let token = scanner.next() {
            switch token {
            case .terminator, .positional:
                throw WorkQueueError.usage("wqtop takes no arguments; see wqtop --help")
            case .option(let name):
                if try options.consume(name, from: &scanner) { continue }
                switch name {
                case "-h", "--help": return .help(help)
                case "--interval": config.interval = try scanner.seconds(for: name, in: 0.1...3600)
                case "--once": config.output = .once
                case "--json": config.output = .json
                case "--exit-when-drained": config.exitWhenDrained = true
                case "--progress-exchange": exchange = try scanner.value(for: name)
                case "--no-color": config.color = false
                default: throw WorkQueueError.usage("unknown option \(name); see wqtop --help")
                }
            }
        }
        config.connection = try options.resolve(environment: environment)
        config.progressExchange = exchange ?? Topology(config.connection).progressExchange
        return .run(config)
    }
}
