/// When a processor that holds work (a consumer of the work queue, or standing on `QUEUE.stopping`)
/// adds its pulse consumer to `QUEUE.stopping`: in the first half of every `period` of the wall
/// clock, so every live holder pulses in step with the others, give or take the pods' clock skew.
///
/// Idle peers see the pulses as `QUEUE.stopping`'s consumer count going up and down; a consumer
/// the broker keeps counting for a node that is gone (a quorum queue's "suspected down" consumer)
/// never moves (`LostConsumerProof`).
package enum LivenessPulse {
    /// Seconds of one on-off cycle.
    package static let period = 10.0

    /// Whether the pulse consumer should stand at wall-clock time `wall` (Unix seconds).
    package static func isOn(at wall: Double) -> Bool {
        phase(of: wall) < period / 2
    }

    /// Seconds from `wall` to the next switch between on and off.
    package static func untilNextSwitch(from wall: Double) -> Double {
        let phase = phase(of: wall)
        return phase < period / 2 ? period / 2 - phase : period - phase
    }

    private static func phase(of wall: Double) -> Double {
        let phase = wall.truncatingRemainder(dividingBy: period)
        return phase < 0 ? phase + period : phase
    }
}
