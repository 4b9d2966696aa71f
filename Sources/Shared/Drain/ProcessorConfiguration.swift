import Core
import ProcessRunner

/// Everything `processor` needs, from its flags and environment.
package struct ProcessorConfiguration: Sendable, Equatable {
    package var connection: ConnectionSettings
    /// The work command; nil runs the original's demo work.
    package var command: WorkCommand?
    package var prefetch = 1
    /// The `basic.qos` of each shard's consumer: the prefetch split over the shards (at least 1),
    /// so a processor holds at most `max(prefetch, shards)` items. Per consumer (`global` false),
    /// not per channel: quorum queues refuse a consumer on a channel with a global prefetch, and
    /// RabbitMQ 4 deprecates global QoS (docs/sharding.md).
    package var prefetchPerShard: Int { max(1, prefetch / connection.shards) }
    /// Items worked on at once (commands, or `--stdio` workers).
    package var concurrency = 1
    /// `--spawn-ahead`: each slot's next command starts before its item arrives (stdin only).
    package var spawnAhead = false
    /// Set for `--stdio`: one long-lived worker per slot, fed items in this format.
    package var stdio: StdioFormat?
    package var maxAttempts = 3
    package var itemTimeout: Duration?
    /// The broker's consumer_timeout when known up front (`--consumer-timeout`); else learned
    /// from the broker's close.
    package var consumerTimeout: ConsumerTimeout?
    package var grace: Duration = .seconds(20)
    package var waitForWork: Duration = .zero
    package var reconnectTimeout: Duration = .seconds(300)
    package var failOnDeadLetters = false
    package var quiet = false
    /// The fanout exchange for progress events (QUEUE.progress); nil with --no-progress.
    package var progressExchange: String?
    /// Names this processor in logs and dead letters: POD_NAME, else HOSTNAME.
    package var podName: String

    package init(connection: ConnectionSettings, podName: String) {
        self.connection = connection
        self.podName = podName
    }
}
