/// Decides, from an idle processor's samples, that the consumers the broker still counts are gone:
/// consumers of a cluster node that died for good, which a quorum queue keeps counted ("suspected
/// down": RabbitMQ 3.10 to 4.x count every consumer in `queue.declare-ok`) until the node returns
/// or is forgotten (`rabbitmqctl forget_cluster_node`).
///
/// Every live holder pulses (`LivenessPulse`): 5 s on, 5 s off, so `QUEUE.stopping`'s count moves
/// at least twice in any 10 s while one lives. Lost consumers never move. The proof is a run of
/// `window` seconds (two whole periods; longer on brokers that hold a lost consumer's items) in which no ready item appeared and neither count
/// changed, with `QUEUE.stopping` sampled at least every `maxGap` seconds; any change, any ready
/// item, any longer gap (this processor's loop was busy and might have missed a pulse) starts it
/// again. Clock skew between pods only shifts the pulses a little: a change is a change.
package struct LostConsumerProof: Sendable, Equatable {
    /// Unchanged counts for this long take the counted consumers as lost: two pulse periods.
    package static let window: Duration = .seconds(2 * LivenessPulse.period)
    /// The window on RabbitMQ 4.3 and later, where a consumer of a lost node keeps its items
    /// unacknowledged for `consumer_disconnected_timeout` (60 s by default) before they return to
    /// the queue: exiting before would leave them to nobody.
    package static let windowHoldingItems: Duration = .seconds(75)
    /// Time between samples of `QUEUE.stopping` while the work queue shows consumers.
    package static let stoppingInterval: Duration = .seconds(1)
    /// The longest gap between samples of `QUEUE.stopping` a run may have.
    package static let maxGap: Duration = .seconds(2)

    /// The window in use (`window`, or `windowHoldingItems` for brokers that need it).
    package private(set) var window = Self.window
    private var queueConsumers = -1
    private var stoppingConsumers = -1
    private var since: Instant?
    private var lastStoppingSample: Instant?

    package init() {}

    /// The window for a broker of `version` ("3.10.8", "4.3.0"): 4.3 and later (and a version
    /// that cannot be read) keep a lost consumer's items for a while, so the window outlasts that.
    package static func window(forBrokerVersion version: String?) -> Duration {
        let parts = (version ?? "").split(separator: ".").prefix(2).map { Int($0.prefix { $0.isNumber }) }
        guard parts.count == 2, let major = parts[0], let minor = parts[1] else { return windowHoldingItems }
        return (major, minor) < (4, 3) ? Self.window : windowHoldingItems
    }

    /// Sets the window for the broker this processor is connected to.
    package mutating func useWindow(forBrokerVersion version: String?) {
        window = Self.window(forBrokerVersion: version)
    }

    /// Whether this sample should include `QUEUE.stopping`'s count.
    package func wantsStoppingSample(now: Instant) -> Bool {
        guard let last = lastStoppingSample else { return true }
        // A little early rather than late: the loop wakes on the work queue's 0.5 s schedule.
        return now - last >= Self.stoppingInterval - .milliseconds(100)
    }

    /// Takes a sample showing no ready item and `consumers` on the work queue (`stopping` on
    /// `QUEUE.stopping`, when sampled). Returns how many consumers are taken as lost once proved.
    package mutating func observe(consumers: Int, stopping: Int?, now: Instant) -> Int? {
        guard let stopping else {
            // Only the work queue: a change there still restarts the run.
            if consumers != queueConsumers { restart() }
            return nil
        }
        let gap = lastStoppingSample.map { now - $0 > Self.maxGap } ?? true
        lastStoppingSample = now
        if gap || consumers != queueConsumers || stopping != stoppingConsumers {
            queueConsumers = consumers
            stoppingConsumers = stopping
            since = now
            return nil
        }
        guard let since else { return nil }
        return now - since >= window ? consumers + stopping : nil
    }

    /// Forgets the run (a ready item, no consumer at all, consuming again).
    package mutating func restart() {
        queueConsumers = -1
        stoppingConsumers = -1
        lastStoppingSample = nil
    }
}
