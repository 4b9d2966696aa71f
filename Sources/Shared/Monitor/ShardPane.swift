/// The line under the progress bar of a sharded Job (`--shards N`, N > 1):
/// ` Shards ready/consumers  0: 120/2  1: 118/2  2: 900/2  lagging: 2`, each shard's ready items
/// and consumers in shard order, as many as fit (then `+K more`), and which shards lag
/// (`ShardRow.marked`). Not drawn with one shard.
struct ShardPane: ScreenPane {
    var snapshot: MonitorSnapshot

    /// The lines it draws: one with shards, none without.
    static func rows(_ snapshot: MonitorSnapshot) -> Int { snapshot.shards.count > 1 ? 1 : 0 }

    func draw(in region: ScreenRegion) -> [StyledLine] {
        let shards = snapshot.shards, width = region.width
        guard shards.count > 1 else { return [] }
        let lagging = shards.indices.filter { shards[$0].lagging }
        let hint = lagging.isEmpty ? "" : "  lagging: " + lagging.map(String.init).joined(separator: ",")
        var line = StyledLine()
        line.append(" Shards ", .dim, limit: width)
        line.append("ready/consumers", .dim, limit: width)
        for (index, shard) in shards.enumerated() {
            let text = "  \(index): " + (shard.counts.map { "\(NumberFormat.count($0.ready))/\($0.consumers)" } ?? "missing")
            let more = index == shards.count - 1 ? "" : "  +\(shards.count - index - 1) more"
            // Room for this shard, and still for what must follow it.
            if line.width + TextWidth.of(text) + TextWidth.of(hint) + TextWidth.of(more) > width {
                line.append("  +\(shards.count - index) more", .dim, limit: width)
                break
            }
            line.append(text, shard.counts == nil || shard.lagging ? .warning : .plain, limit: width)
        }
        line.append(hint, .warning, limit: width)
        return [line]
    }
}
