#if canImport(Glibc)
import Glibc
#endif

/// Frames without a terminal: `--once` prints a text report, `--json` one object per line.
public final class LineDisplay: MonitorDisplay {
    /// Text frames or JSON lines.
    public enum Format: Sendable {
        case text, json
    }

    let format: Format

    public init(format: Format) {
        self.format = format
    }

    public var inputDescriptor: Int32? { nil }

    public func show(_ snapshot: MonitorSnapshot, time: Double) {
        switch format {
        case .text: Log.write(snapshot.textReport(), to: STDOUT_FILENO)
        case .json: Log.write(snapshot.jsonLine(time: time), to: STDOUT_FILENO)
        }
    }

    public func handleInput(latest: MonitorSnapshot?) -> Bool { true }
}
