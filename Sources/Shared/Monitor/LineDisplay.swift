#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform

/// Frames without a terminal: `--once` prints a text report, `--json` one object per line.
package final class LineDisplay: MonitorDisplay {
    /// Text frames or JSON lines.
    package enum Format: Sendable {
        case text, json
    }

    let format: Format

    package init(format: Format) {
        self.format = format
    }

    package var inputDescriptor: Int32? { nil }

    package func show(_ snapshot: MonitorSnapshot, time: Double) {
        switch format {
        case .text: Log.write(snapshot.textReport(), to: STDOUT_FILENO)
        case .json: Log.write(snapshot.jsonLine(time: time), to: STDOUT_FILENO)
        }
    }

    package func handleInput(latest: MonitorSnapshot?) -> Bool { true }
}
