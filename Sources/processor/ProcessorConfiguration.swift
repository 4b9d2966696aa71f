import Core
import ProcessRunner
import CommandLineOptions
import Drain

/// The command line of `processor`: help text and parsing, flags over environment over defaults.
extension ProcessorConfiguration {
    /// What the command line asked for: help text, or a drain.
    package enum Command: Sendable, Equatable {
        case help(String)
        case run(ProcessorConfiguration)
    }

    package static let help = """
        Usage: processor [OPTIONS] [-- COMMAND [ARG...]]
               processor --stdio [OPTIONS] -- WORKER [ARG...]

        Takes items from the work queue until it is drained for everyone, runs COMMAND for each
        and acknowledges the item only when COMMAND exited 0. Without COMMAND it runs the demo
        work (prints "got id ITEM" and "processed ITEM").

        The item reaches COMMAND three ways: on its standard input (exactly the item's bytes),
        substituted for {} anywhere in ARG, and in the environment variable WORK_ITEM when it
        fits (items up to 128 KiB without NUL bytes; larger ones are on stdin only). COMMAND's
        stdout and stderr are the processor's own, not prefixed. JOB_USER, JOB_PASS and the rest
        of the environment pass through unchanged.

        With --stdio, WORKER starts once and stays: each item is written to its stdin as one
        line, and it answers one line on stdout: "ok" (acknowledge) or "fail" / "fail: reason"
        (a failed attempt). Anything else is a protocol error for that item. If WORKER exits or
        hangs past --item-timeout, the item in hand fails and WORKER is restarted.

        Work:
          --prefetch N            unacknowledged items the broker may hand this processor
                                  (1; at least --concurrency)
          --concurrency N         work on up to N items at once: N commands, or N workers (1)
          --stdio                 run COMMAND once as a long-lived worker (see above)
          --stdio-format F        lines: the item and a newline; items holding a newline go
                                  to the dead-letter queue. json: the item as a JSON string
                                  (items must be UTF-8) (lines)
          --max-attempts N        tries per item across all processors before it is moved to
                                  the dead-letter queue QUEUE.failed (3)
          --item-timeout SECS     kill COMMAND's process group after this long; counts as a
                                  failed attempt (no limit)
          --fail-on-dead-letters  exit 1 when any item was dead-lettered
        Draining and stopping:
          --wait-for-work SECS    on an empty, idle queue, wait this long for a first item (0)
          --grace SECS            on SIGTERM/SIGINT, let the running COMMAND finish this long
                                  before killing it and returning its item (20)
          --reconnect-timeout S   keep reconnecting this long after losing the broker (300)
          --quiet                 no line per item; errors and the summary only
        Progress (what wqtop shows):
          --progress-exchange X   publish progress events to fanout exchange X (QUEUE.progress)
          --no-progress           publish no progress events

        """ + ConnectionOptions.helpText + """


        Exit codes: 0 the queue is drained for everyone, 1 runtime failure (or dead letters with
        --fail-on-dead-letters), 64 usage or configuration error, 69 broker unreachable,
        77 access refused, 130 stopped by SIGINT, 143 stopped by SIGTERM.
        """

    /// Parses flags over environment over defaults. Pure apart from reading `--password-file`.
    package static func parse(arguments: [String], environment: [String: String]) throws -> Command {
        var scanner = ArgumentScanner(arguments)
        var options = ConnectionOptions()
        var command: [String]?
        var progressExchange: String?
        var progressOff = false
        var stdio = false
        var stdioFormat: StdioFormat?
        // Connection settings and the pod name are filled in once every flag is read.
        var config = ProcessorConfiguration(connection: ConnectionSettings(), podName: "")
        while let token = scanner.next() {
            switch token {
            case .terminator: command = scanner.rest()
            case .positional(let word):
                throw WorkQueueError.usage("unexpected argument '\(word)'; put the command after --, as in: processor -- \(word) ...")
            case .option(let name):
                if try options.consume(name, from: &scanner) { continue }
                switch name {
                case "-h", "--help": return .help(help)
                case "--prefetch": config.prefetch = try scanner.integer(for: name, in: 1...65535)
                case "--concurrency": config.concurrency = try scanner.integer(for: name, in: 1...1024)
                case "--stdio": stdio = true
                case "--stdio-format":
                    let value = try scanner.value(for: name)
                    guard let format = StdioFormat(rawValue: value) else {
                        throw WorkQueueError.usage("--stdio-format must be lines or json, got '\(value)'")
                    }
                    stdioFormat = format
                case "--max-attempts": config.maxAttempts = try scanner.integer(for: name, in: 1...1000)
                case "--item-timeout": config.itemTimeout = try scanner.seconds(for: name, in: 0.001...864_000)
                case "--grace": config.grace = try scanner.seconds(for: name, in: 0...3600)
                case "--wait-for-work": config.waitForWork = try scanner.seconds(for: name, in: 0...86_400)
                case "--reconnect-timeout": config.reconnectTimeout = try scanner.seconds(for: name, in: 0...86_400)
                case "--fail-on-dead-letters": config.failOnDeadLetters = true
                case "--quiet", "-q": config.quiet = true
                case "--progress-exchange": progressExchange = try scanner.value(for: name)
                case "--no-progress": progressOff = true
                default: throw WorkQueueError.usage("unknown option \(name); see processor --help")
                }
            }
        }
        config.podName = environment["POD_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOSTNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? HostName.current()
        config.connection = try options.resolve(environment: environment)
        config.progressExchange = progressOff ? nil : progressExchange ?? Topology(config.connection).progressExchange
        if stdioFormat != nil && !stdio { throw WorkQueueError.usage("--stdio-format needs --stdio") }
        if stdio {
            guard command?.isEmpty == false else {
                throw WorkQueueError.usage("--stdio needs a worker command after --, as in: processor --stdio -- python3 worker.py")
            }
            config.stdio = stdioFormat ?? .lines
        }
        config.prefetch = max(config.prefetch, config.concurrency)
        if let command {
            guard !command.isEmpty else { throw WorkQueueError.usage("no command after --; see processor --help") }
            var work = WorkCommand(arguments: command)
            try work.validate(path: environment["PATH"])
            config.command = work
        }
        return .run(config)
    }
}
