
#if canImport(Glibc)
import Glibc
#endif
import Core
import CommandLineOptions
import Drain

/// `processor`: parses, hands over to `Processor`, maps errors to exit codes.
let environment = ProcessEnvironment.current()
do {
    switch try ProcessorConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
    case .help(let text):
        Log.write(text, to: STDOUT_FILENO)
        exit(ExitCode.success)
    case .run(let config):
        let processor = try Processor(config: config, log: Log(quiet: config.quiet))
        exit(try processor.run())
    }
} catch let error as WorkQueueError {
    Log.write(ErrorReport.line(tool: "processor", error), to: STDERR_FILENO)
    exit(error.exitCode)
}
