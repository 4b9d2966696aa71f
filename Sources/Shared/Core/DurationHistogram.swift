#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// How long items took, as a histogram with buckets a quarter of a doubling wide (each about 19%
/// wider than the one before, so a percentile read from it is off by at most about 9%), from
/// 1 ms to about ten days. Histograms of several processors add up bucket by bucket, which
/// percentiles do not: that is how wqtop gets the Job's p50 and p95.
package struct DurationHistogram: Sendable, Equatable {
    /// Bucket 0 holds durations below 1 ms; bucket i (1...maxBucket) holds
    /// [1 ms · 2^((i-1)/4), 1 ms · 2^(i/4)); the last bucket also holds anything longer.
    package static let maxBucket = 120
    private static let smallest = 0.001

    package private(set) var counts: [Int]
    package private(set) var count = 0
    package private(set) var min = Double.infinity
    package private(set) var max = 0.0
    package private(set) var sum = 0.0

    package init() {
        counts = Array(repeating: 0, count: Self.maxBucket + 1)
    }

    /// The bucket a duration falls into.
    package static func bucket(of seconds: Double) -> Int {
        guard seconds.isFinite else { return seconds > 0 ? maxBucket : 0 }
        guard seconds >= smallest else { return 0 }
        let index = 1 + Int((log2(seconds / smallest) * 4).rounded(.down))
        return Swift.min(maxBucket, Swift.max(1, index))
    }

    /// The value a bucket stands for: its geometric middle.
    package static func middle(of bucket: Int) -> Double {
        bucket <= 0 ? smallest / 2 : smallest * pow(2, (Double(bucket) - 0.5) / 4)
    }

    /// Counts one duration in seconds (a negative one as 0).
    package mutating func record(_ seconds: Double) {
        let value = seconds.isFinite ? Swift.max(0, seconds) : 0
        counts[Self.bucket(of: value)] += 1
        count += 1
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        sum += value
    }

    /// Adds another histogram's buckets (a summary's, e.g. another processor's).
    package mutating func add(_ summary: DurationSummary) {
        for entry in summary.buckets where entry.count > 0 && (0...Self.maxBucket).contains(entry.bucket) {
            counts[entry.bucket] += entry.count
            count += entry.count
        }
        min = Swift.min(min, summary.min)
        max = Swift.max(max, summary.max)
        sum += summary.sum
    }

    /// The duration below which a `fraction` (0...1) of the items took, within `min...max`; nil when empty.
    package func percentile(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Int((Double(count) * fraction).rounded(.up)))
        var seen = 0
        for (bucket, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return Swift.max(min, Swift.min(Self.middle(of: bucket), max)) }
        }
        return max
    }

    /// What a progress event carries: count, p50, p95, min, max, sum and the buckets that are not empty.
    package var summary: DurationSummary {
        DurationSummary(
            count: count, p50: Self.rounded(percentile(0.5) ?? 0), p95: Self.rounded(percentile(0.95) ?? 0),
            min: count > 0 ? Self.rounded(min) : 0, max: Self.rounded(max), sum: Self.rounded(sum),
            buckets: counts.enumerated().filter { $0.element > 0 }.map { DurationSummary.Bucket(bucket: $0.offset, count: $0.element) })
    }

    /// Seconds to the microsecond: enough, and short in JSON.
    private static func rounded(_ seconds: Double) -> Double { (seconds * 1_000_000).rounded() / 1_000_000 }
}

/// A processor's item durations since it started, as its progress events carry them (`durations`):
/// `{"count":120,"p50":0.012,"p95":0.31,"min":0.004,"max":1.2,"sum":3.4,"buckets":[[5,10],[6,110]]}`, each bucket
/// `[index, count]` of `DurationHistogram`'s buckets that are not empty.
package struct DurationSummary: Codable, Sendable, Equatable {
    /// One bucket that is not empty; `[index, count]` in JSON.
    package struct Bucket: Codable, Sendable, Equatable {
        package var bucket: Int
        package var count: Int

        package init(bucket: Int, count: Int) {
            self.bucket = bucket
            self.count = count
        }

        package init(from decoder: any Decoder) throws {
            var pair = try decoder.unkeyedContainer()
            bucket = try pair.decode(Int.self)
            count = try pair.decode(Int.self)
            guard pair.isAtEnd else {
                throw DecodingError.dataCorruptedError(in: pair, debugDescription: "a bucket is [index, count]")
            }
        }

        package func encode(to encoder: any Encoder) throws {
            var pair = encoder.unkeyedContainer()
            try pair.encode(bucket)
            try pair.encode(count)
        }
    }

    package var count: Int
    package var p50: Double
    package var p95: Double
    package var min: Double
    package var max: Double
    package var sum: Double
    package var buckets: [Bucket]

    package init(count: Int, p50: Double, p95: Double, min: Double, max: Double, sum: Double, buckets: [Bucket]) {
        self.count = count
        self.p50 = p50
        self.p95 = p95
        self.min = min
        self.max = max
        self.sum = sum
        self.buckets = buckets
    }

    /// Why a summary cannot be one a processor sent, or nil when it can.
    package func problem(within limits: (count: Int, seconds: Double)) -> String? {
        guard (0...limits.count).contains(count) else { return "durations count \(count) out of range" }
        for (name, value) in [("p50", p50), ("p95", p95), ("min", min), ("max", max)] where !(value.isFinite && value >= 0 && value <= limits.seconds) {
            return "durations \(name) \(value) out of 0...\(limits.seconds)"
        }
        guard sum.isFinite, sum >= 0, sum <= limits.seconds * Double(Swift.max(1, count)) else { return "durations sum \(sum) out of range" }
        guard min <= p50 + 1e-6, p50 <= p95, p95 <= max + 1e-6 else {
            return "durations min \(min), p50 \(p50), p95 \(p95), max \(max) out of order"
        }
        guard buckets.count <= DurationHistogram.maxBucket + 1 else { return "\(buckets.count) duration buckets" }
        var total = 0
        var last = -1
        for b in buckets {
            guard b.bucket > last, b.bucket <= DurationHistogram.maxBucket, (1...limits.count).contains(b.count) else {
                return "duration buckets not ascending indexes 0...\(DurationHistogram.maxBucket) with counts 1...\(limits.count)"
            }
            last = b.bucket
            total += b.count
        }
        guard total == count else { return "duration buckets add up to \(total), not count \(count)" }
        return nil
    }
}
