import Core

/// One work queue of a sharded Job (`--shards N`, N > 1) at the latest sample: its name, its
/// counts (nil when it does not exist) and whether it lags behind the others (`ShardRow.marked`).
package struct ShardRow: Sendable, Equatable {
    package var queue: String
    package var counts: QueueCounts?
    /// It holds far more than the others, or has fewer consumers while it holds work.
    package var lagging = false

    package init(queue: String, counts: QueueCounts?, lagging: Bool = false) {
        self.queue = queue
        self.counts = counts
        self.lagging = lagging
    }

    /// A shard lags when it holds at least `lagRatio` times the median shard (the lower median:
    /// one shard far ahead of the rest does not make the others lag) and at least `lagGap` items
    /// more (so the last few items of a Job are no skew).
    package static let lagRatio = 2
    package static let lagGap = 10

    /// The rows of one sample with `lagging` set: every processor consumes from every shard,
    /// so a shard with work and fewer consumers than the most any shard has is served by fewer
    /// processors (one started with another shard count), and one that holds far more than the
    /// median (an uneven load) will be the last to drain. With one shard, none lags.
    package static func marked(_ rows: [ShardRow]) -> [ShardRow] {
        guard rows.count > 1 else { return rows }
        let mostConsumers = rows.compactMap { $0.counts?.consumers }.max() ?? 0
        let readies = rows.compactMap { $0.counts?.ready }.sorted()
        let median = readies.isEmpty ? 0 : readies[(readies.count - 1) / 2]
        return rows.map { row in
            var row = row
            guard let counts = row.counts, counts.ready > 0 else { return row }
            let heavy = counts.ready >= lagRatio * median && counts.ready - median >= lagGap
            row.lagging = counts.consumers < mostConsumers || heavy
            return row
        }
    }
}
