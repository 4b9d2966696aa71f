import AMQPClient
import Core

/// The queue as the depth samples show it: its latest counts, whether it rises, and what left
/// it (for queues whose consumers send no events).
struct QueueDepth: Sendable {
    /// When (monotonic) the first sample was taken; nil before it.
    private(set) var firstSample: Instant?
    /// The latest counts; nil when the queue does not exist.
    private(set) var counts: QueueCounts?
    /// Ready rose between the last two samples.
    private(set) var rising = false
    /// A sample had ready items.
    private(set) var workSeen = false
    /// Items that left the queue, judged by depth alone.
    private(set) var drained = 0
    private var previousReady: Int?

    /// Whether any sample was taken.
    var sampled: Bool { firstSample != nil }
    var ready: Int { counts?.ready ?? 0 }

    /// Records a sample at `time`; nil when the queue does not exist.
    mutating func sample(_ counts: QueueCounts?, at time: Instant) {
        if firstSample == nil { firstSample = time }
        self.counts = counts
        let ready = ready
        if let previous = previousReady {
            rising = ready > previous
            if ready < previous { drained += previous - ready }
        }
        previousReady = counts == nil ? nil : ready
        if ready > 0 { workSeen = true }
    }
}
