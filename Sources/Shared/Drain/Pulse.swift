import Core

/// This processor's pulse on `QUEUE.stopping` (`LivenessPulse`): while it holds work — a consumer
/// of the work queue, or standing on `QUEUE.stopping` while it stops — a consumer it adds in the
/// on-phases and cancels in the off-phases, so idle peers can tell it from a consumer the broker
/// keeps counting for a lost node. Pure: the processor asks the broker and tells this the answers.
struct Pulse {
    /// The pulse consumer, while it stands.
    private(set) var tag: String?
    /// Off for classic queues (their consumers go with their node), or after the broker refused it.
    private(set) var enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled
    }

    enum Step: Equatable {
        case none
        /// Add the pulse consumer.
        case start
        /// Cancel it.
        case stop(tag: String)
    }

    /// What to do at wall-clock time `wall`, holding work or not.
    func step(holding: Bool, wall: Double) -> Step {
        let wanted = enabled && holding && LivenessPulse.isOn(at: wall)
        if wanted, tag == nil { return .start }
        if !wanted, let tag { return .stop(tag: tag) }
        return .none
    }

    /// The time from `wall` to the next moment `step` may change its mind while holding.
    func untilNextSwitch(wall: Double) -> Duration? {
        enabled ? .seconds(LivenessPulse.untilNextSwitch(from: wall)) : nil
    }

    mutating func started(tag: String) { self.tag = tag }

    /// Cancelled, or gone with its connection (reconnecting).
    mutating func stopped() { tag = nil }

    /// The broker refused the pulse consumer: no more tries.
    mutating func disable() {
        enabled = false
        tag = nil
    }
}
