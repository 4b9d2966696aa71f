/// Decides, from passive-declare samples taken while this processor holds nothing and does not
/// consume, whether to consume again, keep waiting, or exit because the work is done for everyone.
///
/// A processor holding items stays a consumer, so `consumers > 0` means someone may still hold
/// work that could come back; `ready > 0` means there is work to take. Exit needs `ready == 0`
/// and `consumers == 0` on `requiredEmptyPolls` samples in a row (and, with `--wait-for-work`,
/// some work seen, by this processor or as others holding items, or the wait over).
///
/// With `quorum` (quorum queues), consumers that never pulse while no item is ready are taken,
/// after `LostConsumerProof.window`, as lost with a cluster node (a quorum queue keeps those
/// counted): the processor exits and `lostConsumers` says how many it took as lost. And the empty
/// samples must span `quorumEmptySpan`: while a quorum queue elects a leader (its leader's node
/// lost), passive declares answer 0 ready and 0 consumers whoever holds items.
package struct DrainBarrier: Sendable, Equatable {
    package enum Decision: Sendable, Equatable {
        case consume
        case wait
        case exit
    }

    package let requiredEmptyPolls: Int
    /// Time from the first empty sample of a quorum queue to the exit. RabbitMQ answers a
    /// passive declare with 0 ready, 0 consumers when the queue's leader does not answer
    /// (`rabbit_quorum_queue:stat/2` falls back to `{ok, 0, 0}`): 0.3-0.6 s after the leader's
    /// node died, measured on 3.10.8; a real drain stays empty.
    package static let quorumEmptySpan: Duration = .seconds(2)
    private let waitForWorkUntil: Instant
    private var emptyPolls = 0
    private var busySamples = 0
    package private(set) var sawWork = false
    private let provesLostConsumers: Bool
    private let emptySpan: Duration
    private var firstEmpty: Instant?
    private var proof = LostConsumerProof()
    /// Set with the `.exit` that took the counted consumers as lost: how many there were.
    package private(set) var lostConsumers: Int?

    package init(requiredEmptyPolls: Int = 2, startedAt: Instant, waitForWork: Duration, quorum: Bool = false) {
        self.requiredEmptyPolls = requiredEmptyPolls
        self.waitForWorkUntil = startedAt + waitForWork
        self.provesLostConsumers = quorum
        self.emptySpan = quorum ? Self.quorumEmptySpan : .zero
    }

    /// How long unchanged counts prove consumers lost, for the broker connected to.
    package var lostConsumerWindow: Duration { proof.window }

    /// The broker connected to announced `version`: the proof window depends on it.
    package mutating func brokerVersion(_ version: String?) {
        proof.useWindow(forBrokerVersion: version)
    }

    /// Whether a sample whose work queue shows `queue` should also count `QUEUE.stopping`'s
    /// consumers: always when the work queue shows neither ready items nor consumers (stopping
    /// peers), and about once a second while it shows only consumers, to see them pulse.
    package func wantsStoppingSample(after queue: QueueCounts, now: Instant) -> Bool {
        guard queue.ready == 0 else { return false }
        return queue.consumers == 0 || (provesLostConsumers && proof.wantsStoppingSample(now: now))
    }

    /// Records that work was seen (an item was delivered).
    package mutating func workSeen() {
        sawWork = true
    }

    /// Takes one sample: `counts` of the work queue, with `QUEUE.stopping`'s consumers added
    /// (`stopping` nil: not sampled this time, or already in `counts`).
    package mutating func observe(_ counts: QueueCounts, stopping: Int? = nil, now: Instant) -> Decision {
        if counts.ready > 0 {
            emptyPolls = 0
            sawWork = true
            proof.restart()
            return .consume
        }
        if counts.consumers + (stopping ?? 0) > 0 {
            emptyPolls = 0
            // Consumers seen on two samples in a row hold work (idle ones leave within 0.25 s),
            // so a processor that started while others drained does not wait for a first item.
            busySamples += 1
            if busySamples >= 2 { sawWork = true }
            guard provesLostConsumers, let lost = proof.observe(consumers: counts.consumers, stopping: stopping, now: now) else {
                return .wait
            }
            lostConsumers = lost
            return .exit
        }
        proof.restart()
        busySamples = 0
        if emptyPolls == 0 { firstEmpty = now }
        emptyPolls += 1
        guard emptyPolls >= requiredEmptyPolls, let firstEmpty, now - firstEmpty >= emptySpan else { return .wait }
        if !sawWork && now < waitForWorkUntil { return .wait }
        return .exit
    }

    /// True after an empty sample that a later one must confirm before the exit: the next sample
    /// is due sooner than the usual interval (it happens once per drain, so it costs nothing while
    /// idle). Not while `--wait-for-work` keeps an empty queue waiting.
    package var awaitsConfirmation: Bool { emptyPolls > 0 && emptyPolls < requiredEmptyPolls }

    /// Starts a new run of samples (after consuming again).
    package mutating func reset() {
        emptyPolls = 0
        proof.restart()
    }
}
