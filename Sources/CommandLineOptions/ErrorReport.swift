import Core

/// The one line a tool prints for an error that ends it: `tool: message`. Errors from the layers
/// below say what failed; the words of the command line (flags, environment variables) that tell
/// the user what to do next are added here, in one place for all three tools.
package enum ErrorReport {
    package static func line(tool: String, _ error: WorkQueueError) -> String {
        "\(tool): \(error.message)"
    }
}
