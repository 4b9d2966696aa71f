import Testing

import Core
@testable import Drain

@Suite("The pulse a holder shows on QUEUE.stopping")
struct PulseTests {
    let on = 1_700_000_001.0
    let off = 1_700_000_006.0

    @Test("a holder adds its pulse consumer in the on-phase and cancels it in the off-phase")
    func holderPulses() {
        var pulse = Pulse(enabled: true)
        #expect(pulse.step(holding: true, wall: off) == .none)
        #expect(pulse.step(holding: true, wall: on) == .start)
        pulse.started(tag: "p1")
        #expect(pulse.step(holding: true, wall: on + 1) == .none)
        #expect(pulse.step(holding: true, wall: off) == .stop(tag: "p1"))
        pulse.stopped()
        #expect(pulse.step(holding: true, wall: off + 1) == .none)
    }

    @Test("a processor that holds nothing cancels its pulse at once and adds none")
    func idleDoesNotPulse() {
        var pulse = Pulse(enabled: true)
        pulse.started(tag: "p1")
        #expect(pulse.step(holding: false, wall: on) == .stop(tag: "p1"))
        pulse.stopped()
        #expect(pulse.step(holding: false, wall: on) == .none)
    }

    @Test("classic queues, or a refused pulse: no pulse at all")
    func disabled() {
        #expect(Pulse(enabled: false).step(holding: true, wall: on) == .none)
        #expect(Pulse(enabled: false).untilNextSwitch(wall: on) == nil)
        var refused = Pulse(enabled: true)
        refused.disable()
        #expect(refused.step(holding: true, wall: on) == .none)
    }
}
