/// A rate over a sliding window from a cumulative count sampled now and then.
package struct RateMeter: Sendable {
    package let window: Duration
    private var samples: [(time: Instant, count: Int)] = []

    package init(window: Duration) {
        self.window = window
    }

    /// Records the cumulative count at `time`.
    package mutating func record(_ count: Int, at time: Instant) {
        if let last = samples.last, time - last.time < window / 20, samples.count > 1 {
            samples[samples.count - 1] = (time, count)  // keep the buffer small under frequent calls
        } else {
            samples.append((time, count))
        }
        while let first = samples.first, time - first.time > window, samples.count > 2 {
            if time - samples[1].time < window { break }
            samples.removeFirst()
        }
    }

    /// Items per second between the oldest sample in the window and the newest; 0 without two.
    package var rate: Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return 0 }
        return max(0, Double(last.count - first.count) / (last.time - first.time).inSeconds)
    }

    /// The time the samples span.
    package var span: Duration {
        guard let first = samples.first, let last = samples.last else { return .zero }
        return last.time - first.time
    }
}
