import Core

/// Everything `wqtop` needs, from its flags and environment.
package struct MonitorConfiguration: Sendable, Equatable {
    /// Where frames go.
    package enum Output: Sendable, Equatable {
        /// The full-screen monitor.
        case terminal
        /// One frame after one interval: text, or one JSON object (`--once --json`).
        case once(json: Bool)
        /// One JSON object per interval.
        case json
        /// No frames: `--serve` alone serves metrics only.
        case headless

        /// Whether a first connection that fails is tried again for ever, as a person watching a
        /// screen or a scraper expects; else it is an error once it cannot pass (exit 69/77).
        package var keepsTrying: Bool { self == .terminal || self == .headless }

        /// One frame, then exit.
        package var isOnce: Bool { if case .once = self { true } else { false } }
    }

    package var connection: ConnectionSettings
    package var interval: Duration = .seconds(1)
    package var output: Output = .terminal
    package var exitWhenDrained = false
    /// `--receipt FILE`: where the receipt goes as wqtop ends (see `Receipt`).
    package var receipt: String?
    package var progressExchange: String
    /// Colours unless NO_COLOR is set or --no-color given.
    package var color = true
    /// `--serve ADDRESS`: where the Prometheus metrics are served, if anywhere.
    package var serve: ListenAddress?

    /// Whether a first connection that fails is tried again for ever: on the screen, and whenever
    /// metrics are served (a scraper expects the exporter to wait for the broker).
    package var keepsTrying: Bool { output.keepsTrying || serve != nil }

    package init(connection: ConnectionSettings) {
        self.connection = connection
        self.progressExchange = Topology(connection).progressExchange
    }
}
