import Core

/// What the samples add up to over time: the rates over 5 s and a minute, the history graphs,
/// and when the counts last moved (for the stalled state).
struct SampleHistory: Sendable {
    /// Samples kept for the history graphs.
    static let length = 400

    private(set) var now = RateMeter(window: .seconds(5))
    private(set) var minute = RateMeter(window: .seconds(60))
    /// Oldest first, one per sample.
    private(set) var depth: [Int] = []
    private(set) var rate: [Double] = []
    /// The last sample at which items done or ready changed (the first sample included).
    private(set) var lastChange: (time: Instant?, done: Int, ready: Int) = (nil, 0, 0)

    /// Records the items done and ready at `time`.
    mutating func record(done: Int, ready: Int, at time: Instant) {
        now.record(done, at: time)
        minute.record(done, at: time)
        if done != lastChange.done || ready != lastChange.ready || lastChange.time == nil {
            lastChange = (time, done, ready)
        }
        depth.append(ready)
        rate.append(now.rate)
        if depth.count > Self.length {
            depth.removeFirst(depth.count - Self.length)
            rate.removeFirst(rate.count - Self.length)
        }
    }
}
