#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CommandLineOptions
import Core
import Platform
import Drain
import ProcessRunner

/// `processor`: parses its command line and hands over to `Processor`.
@main
struct ProcessorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "processor",
        abstract: "Takes items from the work queue until it is drained for everyone and runs COMMAND for each.",
        usage: """
            processor [OPTIONS] [-- COMMAND [ARG...]]
            processor --stdio [OPTIONS] -- WORKER [ARG...]
            """,
        discussion: """
            Acknowledges an item only when COMMAND exited 0. Without COMMAND it runs the demo work \
            (prints "got id ITEM" and "processed ITEM").

            The item reaches COMMAND three ways: on its standard input (exactly the item's bytes), \
            substituted for {} anywhere in ARG, and in the environment variable WORK_ITEM when it fits \
            (items up to 128 KiB without NUL bytes; larger ones are on stdin only). COMMAND's stdout and \
            stderr are the processor's own, not prefixed. JOB_USER, JOB_PASS and the rest of the \
            environment pass through unchanged. POD_NAME (else HOSTNAME, else the host name) names this \
            processor in logs, progress events and dead letters.

            With --stdio, WORKER starts once and stays: each item is written to its stdin as one line, \
            and it answers one line on stdout: "ok" (acknowledge) or "fail" / "fail: reason" (a failed \
            attempt). Anything else is a protocol error for that item. If WORKER exits or hangs past \
            --item-timeout, the item in hand fails and WORKER is restarted.

            Exit codes: 0 the queue is drained for everyone, 1 runtime failure (or dead letters with \
            --fail-on-dead-letters), 64 usage or configuration error, 69 broker unreachable, \
            77 access refused (credentials, or a missing permission), 130 stopped by SIGINT, 143 stopped by SIGTERM.
            """,
        version: ToolVersion.current)

    /// A word before `--`: refused with a hint, since the command belongs after `--`.
    @Argument(help: .hidden)
    var unexpected: String?

    @Argument(
        parsing: .postTerminator,
        help: ArgumentHelp("After --: the command to run per item ({} is the item), or the --stdio worker.", valueName: "COMMAND"))
    var command: [String] = []

    @Option(
        parsing: .unconditional,
        help: .flag(
            "Unacknowledged items the broker may hand this processor, 1 to 65535; at least --concurrency", default: "1",
            valueName: "N"))
    var prefetch: String?

    @Option(
        parsing: .unconditional,
        help: .flag("Work on up to N items at once: N commands, or N workers; 1 to 1024", default: "1", valueName: "N"))
    var concurrency: String?

    @Flag(help: .flag("Run COMMAND once as a long-lived worker (see above)"))
    var stdio = false

    @Flag(
        help: .flag(
            "Start each slot's next COMMAND before its item arrives, so its start-up overlaps the item in hand; the item then reaches COMMAND on stdin only (no {}, no WORK_ITEM). For commands that read stdin before doing anything and take an empty input without harm (a processor killed by SIGKILL leaves its waiting command an empty stdin)"
        ))
    var spawnAhead = false

    @Option(
        help: .flag(
            "lines: the item and a newline (items holding a newline go to the dead-letter queue); json: the item as a JSON string (items must be UTF-8)",
            default: "lines", valueName: "F"),
        completion: .list(["lines", "json"]))
    var stdioFormat: String?

    @Option(
        parsing: .unconditional,
        help: .flag(
            "Tries per item across all processors before it is moved to the dead-letter queue QUEUE.failed; 1 to 1000",
            default: "3", valueName: "N"))
    var maxAttempts: String?

    @Option(
        parsing: .unconditional,
        help: .flag(
            "Kill COMMAND's process group after this long; counts as a failed attempt", default: "no limit",
            valueName: "SECS"))
    var itemTimeout: String?

    @Option(
        parsing: .unconditional,
        help: .flag(
            "The broker's consumer_timeout in milliseconds: items are stopped a margin before it (a failed attempt) instead of the broker taking them back; unset, it is learned when the broker first closes a channel for it",
            environment: "WORK_QUEUE_CONSUMER_TIMEOUT", default: "unknown", valueName: "MS"))
    var consumerTimeout: String?

    @Flag(help: .flag("Exit 1 when any item was dead-lettered"))
    var failOnDeadLetters = false

    @Option(
        parsing: .unconditional,
        help: .flag("On an empty, idle queue, wait this long for a first item", default: "0", valueName: "SECS"))
    var waitForWork: String?

    @Option(
        parsing: .unconditional,
        help: .flag(
            "On SIGTERM/SIGINT, let the running COMMAND finish this long before killing it and returning its item",
            default: "20", valueName: "SECS"))
    var grace: String?

    @Option(
        parsing: .unconditional,
        help: .flag("Keep reconnecting this long after losing the broker", default: "300", valueName: "SECS"))
    var reconnectTimeout: String?

    @Flag(name: [.customLong("quiet"), .customShort("q")], help: .flag("No line per item; errors and the summary only"))
    var quiet = false

    @Option(help: .flag("Publish progress events (what wqtop shows) to this fanout exchange", default: "QUEUE.progress", valueName: "X"))
    var progressExchange: String?

    @Flag(help: .flag("Publish no progress events"))
    var noProgress = false

    @OptionGroup(title: "Connection (flag, then environment variable, then default)")
    var connection: ConnectionOptions

    /// The drain these flags ask for, over `environment` (`POD_NAME`, `HOSTNAME`, `PATH` and the
    /// connection's variables) and the defaults. `terminated` says whether `--` was given, so that
    /// a `--` with nothing after it is an error rather than the demo work.
    func resolve(environment: [String: String], terminated: Bool) throws -> ProcessorConfiguration {
        if let unexpected {
            throw WorkQueueError.usage(
                "unexpected argument '\(unexpected)'; put the command after --, as in: processor -- \(unexpected) ...")
        }
        // The pod name and connection settings are filled in once every flag is checked.
        var config = ProcessorConfiguration(connection: ConnectionSettings(), podName: "")
        if let n = try OptionValue.integer(prefetch, "--prefetch", in: 1...65535) { config.prefetch = n }
        if let n = try OptionValue.integer(concurrency, "--concurrency", in: 1...1024) { config.concurrency = n }
        var format: StdioFormat?
        if let stdioFormat {
            guard let known = StdioFormat(rawValue: stdioFormat) else {
                throw WorkQueueError.usage("--stdio-format must be lines or json, got '\(stdioFormat)'")
            }
            format = known
        }
        if let n = try OptionValue.integer(maxAttempts, "--max-attempts", in: 1...1000) { config.maxAttempts = n }
        if let s = try OptionValue.seconds(itemTimeout, "--item-timeout", in: 0.001...864_000) { config.itemTimeout = s }
        let timeoutFromEnvironment = environment["WORK_QUEUE_CONSUMER_TIMEOUT"].flatMap { $0.isEmpty ? nil : $0 }
        if let ms = try OptionValue.integer(
            consumerTimeout ?? timeoutFromEnvironment, consumerTimeout != nil ? "--consumer-timeout" : "WORK_QUEUE_CONSUMER_TIMEOUT",
            in: Self.consumerTimeoutRange)
        {
            config.consumerTimeout = ConsumerTimeout(milliseconds: ms)
        }
        if let s = try OptionValue.seconds(grace, "--grace", in: 0...3600) { config.grace = s }
        if let s = try OptionValue.seconds(waitForWork, "--wait-for-work", in: 0...86_400) { config.waitForWork = s }
        if let s = try OptionValue.seconds(reconnectTimeout, "--reconnect-timeout", in: 0...86_400) { config.reconnectTimeout = s }
        config.failOnDeadLetters = failOnDeadLetters
        config.quiet = quiet

        config.podName = environment["POD_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOSTNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? HostName.current()
        config.connection = try connection.resolve(environment: environment)
        config.progressExchange = noProgress ? nil : progressExchange ?? Topology(config.connection).progressExchange
        if format != nil && !stdio { throw WorkQueueError.usage("--stdio-format needs --stdio") }
        if stdio {
            guard !command.isEmpty else {
                throw WorkQueueError.usage("--stdio needs a worker command after --, as in: processor --stdio -- python3 worker.py")
            }
            config.stdio = format ?? .lines
        }
        config.prefetch = max(config.prefetch, config.concurrency)
        if terminated {
            guard !command.isEmpty else { throw WorkQueueError.usage("no command after --; see processor --help") }
            var work = WorkCommand(arguments: command)
            try work.validate(path: environment["PATH"])
            config.command = work
        }
        if spawnAhead {
            try checkSpawnAhead()
            config.spawnAhead = true
        }
        return config
    }

    /// `--spawn-ahead` starts a command before its item is known: only a command per item, and
    /// one that takes the item on stdin.
    private func checkSpawnAhead() throws {
        if stdio { throw WorkQueueError.usage("--spawn-ahead is for a command per item; a --stdio worker starts once anyway") }
        if command.isEmpty { throw WorkQueueError.usage("--spawn-ahead needs a command after --, as in: processor --spawn-ahead -- ./work.sh") }
        if command.contains(where: { $0.contains("{}") }) {
            throw WorkQueueError.usage(
                "--spawn-ahead starts the command before its item is known, so {} cannot be filled in; read the item from stdin, or drop --spawn-ahead")
        }
    }

    /// Milliseconds `--consumer-timeout` accepts: from 1 s to a year.
    static let consumerTimeoutRange = 1000...31_622_400_000

    static func main() {
        let environment = ProcessEnvironment.current()
        ToolExit.run(tool: "processor") {
            switch try ProcessorConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
            case .output(let text):
                Log.write(text, to: STDOUT_FILENO)
                return Core.ExitCode.success
            case .run(let config):
                return try Processor(config: config, log: Log(quiet: config.quiet, phrase: ErrorReport.phrase)).run()
            }
        }
    }
}
