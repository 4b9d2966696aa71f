
#if canImport(Glibc)
import Glibc
#endif
import Core
import CommandLineOptions
import Monitor

/// `wqtop`: parses, picks a display, runs the session, maps errors to exit codes.
let environment = ProcessEnvironment.current()
do {
    switch try MonitorConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
    case .help(let text):
        Log.write(text, to: STDOUT_FILENO)
        exit(ExitCode.success)
    case .run(let config):
        let session = try MonitorSession(config: config)
        switch config.output {
        case .once: exit(try session.run(display: LineDisplay(format: .text)))
        case .json: exit(try session.run(display: LineDisplay(format: .json)))
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
            if config.exitWhenDrained, code == ExitCode.success, let last = session.lastSnapshot {
                Log.write(last.textReport(), to: STDOUT_FILENO)
            }
            exit(code)
        }
    }
} catch let error as WorkQueueError {
    Log.write(ErrorReport.line(tool: "wqtop", error), to: STDERR_FILENO)
    exit(error.exitCode)
}
