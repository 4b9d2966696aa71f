import Core

/// Whether the Job looks as if it had another shard count than wqtop was given: a cheap check of
/// one or two queues by passive declare (when wqtop connects, once more before it first takes the
/// Job for finished, and every sample while it warns), so that a wqtop watching too few work
/// queues never says "finished" of a Job whose other shards still hold work.
///
/// With one shard it looks for `QUEUE.0` (the Job was loaded with shards). With N it looks for
/// `QUEUE.N` (the Job has more shards than N) and for items or consumers in `QUEUE` itself (the
/// Job was loaded without shards). A Job with fewer shards than N is seen without this check:
/// its missing shards keep the queue "missing".
package struct ShardCheck: Sendable, Equatable {
    package let topology: Topology

    package init(topology: Topology) {
        self.topology = topology
    }

    /// The queues to declare passively: those the processors check too before they exit
    /// (`Topology.otherShardCountsQueues`).
    package var probes: [String] { topology.otherShardCountsQueues }

    /// What the probes found (a queue's counts, or nil when it does not exist, in `probes`'
    /// order), as the warning to show; nil when nothing points at another shard count.
    package func verdict(_ found: [QueueCounts?]) -> String? {
        let watched = topology.shards == 1 ? "'\(topology.queue)' alone" : "\(topology.shards) shards (\(topology.workQueuesText))"
        let advice = "wqtop watches \(watched): give it the shard count the loader and processors use; it does not take the Job for finished meanwhile"
        for (name, counts) in zip(probes, found) {
            guard let counts else { continue }
            if topology.shards == 1 {
                return "Shard count? '\(name)' exists, so the Job looks sharded, but \(advice)."
            }
            if name != topology.queue {
                return "Shard count? '\(name)' exists, so the Job may have more shards; \(advice)."
            }
            if counts.ready > 0 || counts.consumers > 0 {
                return "Shard count? '\(name)' holds \(counts.ready) items and \(counts.consumers) consumers, so the Job looks unsharded, but \(advice)."
            }
        }
        return nil
    }
}
