import FoundationEssentials
import Testing

import Core

@Suite("Item durations: a histogram that processors send and readers add up")
struct DurationHistogramTests {
    @Test("buckets are a quarter doubling wide from 1 ms; below, above and broken values land at the ends")
    func buckets() {
        #expect(DurationHistogram.bucket(of: 0) == 0)
        #expect(DurationHistogram.bucket(of: 0.0009) == 0)
        #expect(DurationHistogram.bucket(of: 0.001) == 1)
        #expect(DurationHistogram.bucket(of: 0.002) == 5)
        #expect(DurationHistogram.bucket(of: 1e12) == DurationHistogram.maxBucket)
        #expect(DurationHistogram.bucket(of: .infinity) == DurationHistogram.maxBucket)
        #expect(DurationHistogram.bucket(of: .nan) == 0)
        let values = stride(from: 0.001, through: 100_000, by: 17.3).map(DurationHistogram.bucket(of:))
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "buckets grow with the duration")
    }

    @Test("p50 and p95 of a thousand durations from 1 ms to 1 s are within 10% of the exact ones; max is exact")
    func percentiles() throws {
        var h = DurationHistogram()
        #expect(h.percentile(0.5) == nil)
        for i in 1...1000 { h.record(Double(i) / 1000) }
        let p50 = try #require(h.percentile(0.5))
        let p95 = try #require(h.percentile(0.95))
        #expect(abs(p50 - 0.5) / 0.5 < 0.1, "p50 \(p50)")
        #expect(abs(p95 - 0.95) / 0.95 < 0.1, "p95 \(p95)")
        #expect(h.max == 1 && h.count == 1000)
        #expect(abs(h.sum - 500.5) < 1e-6)
        h.record(-3)
        #expect(h.count == 1001 && h.percentile(0) == DurationHistogram.middle(of: 0))
    }

    @Test("two processors' summaries add up to the histogram of all their items, through JSON")
    func summariesAddUp() throws {
        var a = DurationHistogram(), b = DurationHistogram(), all = DurationHistogram()
        for i in 0..<300 {
            let d = 0.01 * Double(i % 37 + 1)
            if i % 3 == 0 { a.record(d) } else { b.record(d) }
            all.record(d)
        }
        let decoded = try [a, b].map { try JSONDecoder().decode(DurationSummary.self, from: JSONEncoder().encode($0.summary)) }
        var merged = DurationHistogram()
        for summary in decoded { merged.add(summary) }
        #expect(merged.counts == all.counts && merged.count == 300 && merged.max == all.max)
        #expect(merged.percentile(0.95) == all.percentile(0.95))
        let json = String(decoding: JSONLine.encode(a.summary), as: UTF8.self)
        #expect(json.contains(#""buckets":[["#), "buckets are [index, count] pairs: \(json)")
    }

    @Test("a summary no histogram could make is a problem: counts that do not add up, disorder, absurd numbers")
    func problems() {
        var h = DurationHistogram()
        for d in [0.01, 0.02, 0.5] { h.record(d) }
        let good = h.summary
        let limits = (count: 1_000_000_000_000, seconds: 366 * 86_400.0)
        #expect(good.problem(within: limits) == nil)
        var bad = good
        bad.count = 4
        #expect(bad.problem(within: limits) == "duration buckets add up to 3, not count 4")
        bad = good
        bad.buckets.reverse()
        #expect(bad.problem(within: limits) != nil)
        bad = good
        bad.p95 = 1e300
        #expect(bad.problem(within: limits) != nil)
        bad = good
        bad.p50 = -1
        #expect(bad.problem(within: limits) != nil)
        bad = good
        bad.buckets[0].bucket = 10_000
        #expect(bad.problem(within: limits) != nil)
        bad = good
        bad.buckets[0].count = 0
        #expect(bad.problem(within: limits) != nil)
        #expect((try? JSONDecoder().decode(DurationSummary.Bucket.self, from: Data("[1,2,3]".utf8))) == nil)
    }
}
