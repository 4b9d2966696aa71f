#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CommandLineOptions
import Core
import Platform
import MetricsServer
import Monitor

/// `wqtop`: parses its command line, picks a display and hands over to `MonitorSession`.
@main
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wqtop",
        abstract: "Shows a work queue while it drains.",
        usage: "wqtop [OPTIONS]",
        discussion: """
            Depth, consumers, throughput, ETA and what each processor is doing, from the progress \
            events processors publish. Never consumes from, declares or changes the work queue (except \
            what you ask in the dead-letter view); needs no management plugin.

            Keys: q quit, ? help, arrows/PgUp/PgDn/Home/End scroll, s cycle sort, p pause, f the dead \
            letters (there: r requeue the selected, R requeue all, u refresh, f or Esc close). \
            NO_COLOR (when set and not empty) turns colours off, as --no-color does.

            --serve ADDRESS serves Prometheus metrics (docs/metrics.md) instead of the screen, \
            reconnecting to the broker for ever.

            Exit codes: 0 done (q, --once, --exit-when-drained), 64 usage or configuration error \
            (also a --receipt file that cannot be written), 1 the receipt could not be written at the end, \
            69 broker unreachable (--once, --json), or --serve's address cannot be listened on (a port in use), 77 access refused (credentials, or a missing permission), 129 the terminal went away, \
            130 SIGINT, 143 SIGTERM.
            """,
        version: ToolVersion.current)

    /// Words that are not options: wqtop takes none.
    @Argument(help: .hidden)
    var unexpected: [String] = []

    @Option(parsing: .unconditional, help: .flag("Sample the queue this often, 0.1 to 3600", default: "1", valueName: "SECS"))
    var interval: String?

    @Flag(help: "Print one frame after one interval and exit: text, or with --json one JSON object (with --exit-when-drained: one frame, at the end)")
    var once = false

    @Flag(help: "Print one JSON object per interval (no terminal needed); with --once, one")
    var json = false

    @Flag(
        help: .flag(
            "Exit 0 once work was seen and the queue is empty, nothing is in flight and every processor seen has finished or is lost"))
    var exitWhenDrained = false

    @Option(help: .flag("Write a JSON receipt of the Job here as wqtop ends (replaced atomically)", valueName: "FILE"))
    var receipt: String?

    @Option(
        help: .flag(
            "Serve Prometheus metrics on GET /metrics (and GET /healthz) at [HOST]:PORT, e.g. :9464, until SIGTERM; without --json no frames are shown",
            environment: "WORK_QUEUE_SERVE", valueName: "ADDRESS"))
    var serve: String?

    @Option(help: .flag("Read progress events from this fanout exchange", default: "QUEUE.progress", valueName: "X"))
    var progressExchange: String?

    @Flag(help: .flag("No colours", environment: "NO_COLOR", default: "colours"))
    var noColor = false

    @OptionGroup(title: "Connection (flag, then environment variable, then default)")
    var connection: ConnectionOptions

    /// The monitor these flags ask for, over `environment` and the defaults. `terminated` says
    /// whether `--` was given: wqtop takes no arguments, after `--` neither.
    func resolve(environment: [String: String], terminated: Bool) throws -> MonitorConfiguration {
        guard unexpected.isEmpty, !terminated else {
            throw WorkQueueError.usage("wqtop takes no arguments; see wqtop --help")
        }
        let interval = try OptionValue.seconds(interval, "--interval", in: 0.1...3600)
        var config = MonitorConfiguration(connection: try connection.resolve(environment: environment))
        if let interval { config.interval = interval }
        let serveText = serve ?? environment["WORK_QUEUE_SERVE"].flatMap { $0.isEmpty ? nil : $0 }
        config.serve = try serveText.map { try ListenAddress(parsing: $0, option: serve != nil ? "--serve" : "WORK_QUEUE_SERVE") }
        if once {
            guard config.serve == nil else { throw WorkQueueError.usage("\(serve != nil ? "--serve" : "WORK_QUEUE_SERVE") runs until SIGTERM and --once prints one frame: use one of them") }
            config.output = .once(json: json)
        } else {
            config.output = json ? .json : config.serve == nil ? .terminal : .headless
        }
        config.exitWhenDrained = exitWhenDrained
        config.receipt = receipt
        config.color = (environment["NO_COLOR"] ?? "").isEmpty && !noColor
        config.progressExchange = progressExchange ?? Topology(config.connection).progressExchange
        return config
    }

    static func main() {
        let environment = ProcessEnvironment.current()
        ToolExit.run(tool: "wqtop") {
            switch try MonitorConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
            case .output(let text):
                Log.write(text, to: STDOUT_FILENO)
                return Core.ExitCode.success
            case .run(let config):
                return try run(config, environment: environment)
            }
        }
    }

    /// Runs the session on the display the configuration asks for.
    static func run(_ config: MonitorConfiguration, environment: [String: String]) throws -> Int32 {
        let session = try MonitorSession(config: config, log: Log(phrase: ErrorReport.phrase))
        if let address = config.serve {
            let display = try MetricsDisplay(address: address, interval: config.interval, frames: config.output == .json ? LineDisplay(format: .json) : nil)
            defer { display.close() }
            return try session.run(display: display)
        }
        switch config.output {
        case .once(let json): return try session.run(display: LineDisplay(format: json ? .json : .text))
        case .json, .headless: return try session.run(display: LineDisplay(format: .json))
        case .terminal:
            guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
                throw WorkQueueError.usage("wqtop needs a terminal; use --once or --json to print frames instead")
            }
            let terminal = try TerminalDisplay(color: config.color, environment: environment)
            let code: Int32
            do {
                code = try session.run(display: terminal)
            } catch {
                terminal.close()
                throw error
            }
            terminal.close()
            // The screen is gone with the terminal restored: leave the Job's end in the scrollback.
            if config.exitWhenDrained, code == Core.ExitCode.success, let last = session.lastSnapshot {
                Log.write(last.textReport(), to: STDOUT_FILENO)
            }
            return code
        }
    }
}
