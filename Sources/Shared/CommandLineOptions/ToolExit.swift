#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform

/// How a tool's process ends: the exit code its work returned, or, for an error, one line
/// `tool: message` on stderr (through `ErrorReport`) and the error's documented exit code.
package enum ToolExit {
    package static func run(tool: String, _ work: () throws -> Int32) -> Never {
        do {
            exit(try work())
        } catch let error as WorkQueueError {
            Log.write(ErrorReport.line(tool: tool, error), to: STDERR_FILENO)
            exit(error.exitCode)
        } catch {
            let failure = WorkQueueError.failure("\(error)")
            Log.write(ErrorReport.line(tool: tool, failure), to: STDERR_FILENO)
            exit(failure.exitCode)
        }
    }
}
