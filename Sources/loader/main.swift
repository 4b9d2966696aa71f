
#if canImport(Glibc)
import Glibc
#endif
import Core
import CommandLineOptions
import Load

/// `loader`: parses, hands over to `Loader`, maps errors to exit codes.
signal(SIGPIPE, SIG_IGN)
let environment = ProcessEnvironment.current()
do {
    switch try LoaderConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
    case .help(let text):
        Log.write(text, to: STDOUT_FILENO)
    case .run(let config):
        let log = Log(quiet: config.quiet)
        if config.fromFailed {
            _ = try FailedItemMover(settings: config.connection, log: log).run()
        } else {
            _ = try Loader(config: config, log: log).run()
        }
    }
    exit(ExitCode.success)
} catch let error as WorkQueueError {
    Log.write(ErrorReport.line(tool: "loader", error), to: STDERR_FILENO)
    exit(error.exitCode)
}
