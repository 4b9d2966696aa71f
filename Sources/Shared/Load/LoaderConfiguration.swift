import Core

/// Everything `loader` needs, from its flags and environment.
package struct LoaderConfiguration: Sendable, Equatable {
    package var connection: ConnectionSettings
    package var source: ItemSource = .count(100)
    package var quiet = false
    package var fromFailed = false
    /// `--declare-only`: declare the queues and the progress exchange, load nothing.
    package var declareOnly = false
    package var reconnectTimeout: Duration = .seconds(300)
    /// Where load events go (`QUEUE.progress` unless told otherwise); nil with `--no-progress`.
    package var progressExchange: String?

    package init(connection: ConnectionSettings) {
        self.connection = connection
        self.progressExchange = Topology(connection).progressExchange
    }
}
