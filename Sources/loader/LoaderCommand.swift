#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CommandLineOptions
import Core
import Platform
import Load
import QueueActions

/// `loader`: parses its command line and hands over to `Loader` (or `FailedItemMover`).
@main
struct LoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Puts work items into the work queue as persistent messages.",
        usage: """
            loader [OPTIONS] [ITEM...]
            loader --count N | --file PATH | --from-failed
            loader --declare-only
            """,
        discussion: """
            Exits 0 only when the broker has confirmed every item. With no items named it loads "0".."99".

            Exit codes: 0 all confirmed, 1 runtime failure (the error says how many were confirmed), \
            64 usage or configuration error, 69 broker unreachable, 77 access refused (credentials, or a missing permission: docs/permissions.md).
            """,
        version: ToolVersion.current)

    @Argument(help: ArgumentHelp("Load these items (after --, also items that start with -).", valueName: "ITEM"))
    var items: [String] = []

    @Option(parsing: .unconditional, help: .flag(#"Load "0".."N-1""#, valueName: "N"))
    var count: String?

    @Option(
        help: .flag(
            #"One item per line, without its \n or \r\n; empty lines are skipped; - reads standard input"#,
            valueName: "PATH"),
        completion: .file())
    var file: String?

    @Flag(help: .flag("Move every item of the dead-letter queue QUEUE.failed back into the work queue, with a fresh attempt count"))
    var fromFailed = false

    @Flag(
        help: .flag(
            "Declare QUEUE, QUEUE.failed, QUEUE.stopping and the progress exchange, then exit (an administrator does it once; users then need no configure permission)"
        ))
    var declareOnly = false

    @Flag(name: [.customLong("quiet"), .customShort("q")], help: .flag("Print only errors and the final summary"))
    var quiet = false

    @Option(
        parsing: .unconditional,
        help: .flag("Keep reconnecting for this long after losing the broker", default: "300", valueName: "SECS"))
    var reconnectTimeout: String?

    @Option(help: .flag("Publish load events (what wqtop's progress bar shows) to this fanout exchange", default: "QUEUE.progress", valueName: "X"))
    var progressExchange: String?

    @Flag(help: .flag("Publish no load events"))
    var noProgress = false

    @OptionGroup(title: "Connection (flag, then environment variable, then default)")
    var connection: ConnectionOptions

    /// The load these flags ask for, over `environment` and the defaults. Pure apart from reading
    /// `--password-file`.
    func resolve(environment: [String: String]) throws -> LoaderConfiguration {
        let count = try OptionValue.integer(count, "--count", in: 0...Int(Int32.max))
        let reconnect = try OptionValue.seconds(reconnectTimeout, "--reconnect-timeout", in: 0...86_400)
        let sources = [!items.isEmpty, count != nil, file != nil, fromFailed].filter { $0 }.count
        guard sources <= 1 else {
            throw WorkQueueError.usage("name items one way only: ITEM..., --count, --file or --from-failed")
        }
        guard !declareOnly || sources == 0 else {
            throw WorkQueueError.usage("--declare-only loads nothing: leave out ITEM..., --count, --file and --from-failed")
        }
        var config = LoaderConfiguration(connection: try connection.resolve(environment: environment))
        if !items.isEmpty { config.source = .arguments(items) }
        if let count { config.source = .count(count) }
        if let file { config.source = .file(file) }
        config.quiet = quiet
        config.fromFailed = fromFailed
        config.declareOnly = declareOnly
        if let reconnect { config.reconnectTimeout = reconnect }
        config.progressExchange = noProgress ? nil : progressExchange ?? Topology(config.connection).progressExchange
        return config
    }

    static func main() {
        signal(SIGPIPE, SIG_IGN)
        let environment = ProcessEnvironment.current()
        ToolExit.run(tool: "loader") {
            switch try LoaderConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
            case .output(let text):
                Log.write(text, to: STDOUT_FILENO)
            case .run(let config):
                let log = Log(quiet: config.quiet, phrase: ErrorReport.phrase)
                if config.declareOnly {
                    try TopologyDeclarer(settings: config.connection, progressExchange: config.progressExchange, log: log).run()
                } else if config.fromFailed {
                    _ = try FailedItemMover(settings: config.connection, log: log, progressExchange: config.progressExchange).run()
                } else {
                    _ = try Loader(config: config, log: log).run()
                }
            }
            return Core.ExitCode.success
        }
    }
}
