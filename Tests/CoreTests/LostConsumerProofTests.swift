import Testing

import Core

/// A scripted cluster as an idle processor samples it: consumers a lost node left counted (they
/// never move), and live holders that pulse on `QUEUE.stopping` on their own clocks.
private struct ScriptedQueue {
    /// A live processor holding work from `from` to `until` (sampler's seconds), its clock
    /// `skew` seconds off the sampler's, switching its pulse `lag` seconds late (a busy loop), and
    /// missing the on-phases that start in `missed`.
    struct Holder {
        var from = 0.0
        var until = Double.infinity
        var skew = 0.0
        var lag = 0.0
        var missed: [ClosedRange<Double>] = []

        func holds(at t: Double) -> Bool { t >= from && t < until }

        func pulses(at t: Double, wall: Double) -> Bool {
            guard holds(at: t), !missed.contains(where: { $0.contains(t) }) else { return false }
            return LivenessPulse.isOn(at: wall + skew - lag)
        }
    }

    var lostOnQueue = 0
    var lostOnStopping = 0
    var holders: [Holder] = []
    var ready: (Double) -> Int = { _ in 0 }
    /// The sampler's wall clock at t = 0: anywhere in a pulse period.
    var wallAtZero = 1_700_000_003.3

    /// Samples every 0.5 s from 0 (skipping `stalls`) until the barrier exits or `limit`
    /// passes; returns the time of the exit, or nil.
    func runBarrier(_ barrier: inout DrainBarrier, limit: Double, stalls: [ClosedRange<Double>] = []) -> Double? {
        var t = 0.0
        while t <= limit {
            defer { t += 0.5 }
            if stalls.contains(where: { $0.contains(t) }) { continue }
            let wall = wallAtZero + t
            let counts = QueueCounts(ready: ready(t), consumers: lostOnQueue + holders.filter { $0.holds(at: t) }.count)
            var stopping: Int?
            if barrier.wantsStoppingSample(after: counts, now: at(t)) {
                stopping = lostOnStopping + holders.filter { $0.pulses(at: t, wall: wall) }.count
            }
            switch barrier.observe(counts, stopping: stopping, now: at(t)) {
            case .exit: return t
            case .consume: barrier.reset()
            case .wait: break
            }
        }
        return nil
    }
}

@Suite("Consumers a lost node left counted, told from live holders by their pulses")
struct LostConsumerProofTests {
    func barrier(quorum: Bool = true) -> DrainBarrier {
        DrainBarrier(startedAt: at(0), waitForWork: .zero, quorum: quorum)
    }

    @Test("the pulse is on in the first half of every 10 s of the wall clock")
    func pulsePhases() {
        #expect(LivenessPulse.isOn(at: 1_700_000_000))
        #expect(LivenessPulse.isOn(at: 1_700_000_004.9))
        #expect(!LivenessPulse.isOn(at: 1_700_000_005))
        #expect(!LivenessPulse.isOn(at: 1_700_000_009.9))
        #expect(LivenessPulse.untilNextSwitch(from: 1_700_000_003) == 2)
        #expect(LivenessPulse.untilNextSwitch(from: 1_700_000_007.5) == 2.5)
    }

    @Test("lost consumers only: exit after the proof window, naming how many were taken as lost")
    func lostOnly() throws {
        var b = barrier()
        let queue = ScriptedQueue(lostOnQueue: 2, lostOnStopping: 1)
        let exit = try #require(queue.runBarrier(&b, limit: 120))
        #expect(exit >= LostConsumerProof.window.inSeconds && exit <= LostConsumerProof.window.inSeconds + 1.5, "exit at \(exit)")
        #expect(b.lostConsumers == 3)
    }

    @Test("a live holder with a ten-minute item keeps every idle peer waiting, at any phase")
    func liveHolderLongItem() {
        for start in stride(from: 0.0, to: 10, by: 0.7) {
            var b = barrier()
            let queue = ScriptedQueue(holders: [.init()], wallAtZero: 1_700_000_000 + start)
            #expect(queue.runBarrier(&b, limit: 600) == nil, "start phase \(start)")
        }
    }

    @Test("lost consumers and a live holder: wait while it holds, exit one proof window after it left")
    func lostAndLive() throws {
        var b = barrier()
        let queue = ScriptedQueue(lostOnQueue: 1, lostOnStopping: 1, holders: [.init(until: 47), .init(until: 95)])
        let exit = try #require(queue.runBarrier(&b, limit: 300))
        #expect(exit >= 95 + LostConsumerProof.window.inSeconds && exit <= 95 + LostConsumerProof.window.inSeconds + 1.5, "exit at \(exit)")
    }

    @Test("a holder whose pulse is missed once (its loop busy for a whole on-phase) still counts as alive")
    func missedPulse() {
        for start in stride(from: 0.0, to: 10, by: 1.1) {
            var b = barrier()
            let holder = ScriptedQueue.Holder(lag: 0.9, missed: [20...30, 60...68])
            let queue = ScriptedQueue(lostOnQueue: 1, holders: [holder], wallAtZero: 1_700_000_000 + start)
            #expect(queue.runBarrier(&b, limit: 300) == nil, "start phase \(start)")
        }
    }

    @Test("holders whose clocks are 2 s apart, switching up to a second late, are all seen alive")
    func skew() {
        for start in stride(from: 0.0, to: 10, by: 0.3) {
            var b = barrier()
            let holders: [ScriptedQueue.Holder] = [
                .init(skew: -2, lag: 0.2), .init(skew: 2, lag: 0.9), .init(skew: 0.5), .init(skew: -1.5, lag: 1),
            ]
            let queue = ScriptedQueue(lostOnQueue: 2, lostOnStopping: 2, holders: holders, wallAtZero: 1_700_000_000 + start)
            #expect(queue.runBarrier(&b, limit: 300) == nil, "start phase \(start)")
        }
    }

    @Test("a sampler that stalls past the gap limit starts its proof again")
    func samplerStalls() throws {
        var b = barrier()
        let queue = ScriptedQueue(lostOnQueue: 1)
        let exit = try #require(queue.runBarrier(&b, limit: 120, stalls: [15...18]))
        #expect(exit >= 18 + LostConsumerProof.window.inSeconds, "exit at \(exit)")
    }

    @Test("a ready item restarts the proof")
    func readyRestarts() throws {
        var b = barrier()
        var queue = ScriptedQueue(lostOnQueue: 1)
        queue.ready = { $0 == 12 ? 1 : 0 }
        let exit = try #require(queue.runBarrier(&b, limit: 120))
        #expect(exit >= 12 + LostConsumerProof.window.inSeconds, "exit at \(exit)")
    }

    @Test("classic queues keep no lost consumers: counted consumers keep the barrier waiting")
    func classicNeverProves() {
        var b = barrier(quorum: false)
        #expect(ScriptedQueue(lostOnQueue: 1).runBarrier(&b, limit: 300) == nil)
        #expect(!b.wantsStoppingSample(after: QueueCounts(ready: 0, consumers: 1), now: at(0)))
    }

    @Test("the fast path: no consumer twice in a row exits at once; on a quorum queue once the empty samples span 2 s")
    func fastPath() {
        var classic = barrier(quorum: false)
        #expect(classic.observe(QueueCounts(ready: 0, consumers: 0), stopping: 0, now: at(0)) == .wait)
        #expect(classic.observe(QueueCounts(ready: 0, consumers: 0), stopping: 0, now: at(0.2)) == .exit)
        var b = barrier()
        #expect(b.wantsStoppingSample(after: QueueCounts(ready: 0, consumers: 0), now: at(0)))
        for t in [0, 0.2, 0.7, 1.2, 1.7] { #expect(b.observe(QueueCounts(ready: 0, consumers: 0), stopping: 0, now: at(t)) == .wait) }
        #expect(b.observe(QueueCounts(ready: 0, consumers: 0), stopping: 0, now: at(2.2)) == .exit)
        #expect(b.lostConsumers == nil)
    }

    @Test("a quorum queue electing a leader reads 0 ready, 0 consumers for a moment: a live holder still keeps peers waiting")
    func leaderElection() {
        // Samples every 0.5 s (0.2 s after an empty one), at every phase against a 0.6 s window
        // in which both queues answer 0/0 while a holder works on.
        for offset in stride(from: 0.0, to: 0.5, by: 0.05) {
            var b = barrier()
            var t = offset
            var exited = false
            while t < 30 {
                let election = t >= 10 && t < 10.6
                let counts = QueueCounts(ready: 0, consumers: election ? 0 : 1)
                let stopping = b.wantsStoppingSample(after: counts, now: at(t)) ? (election || !LivenessPulse.isOn(at: 1_700_000_000 + t) ? 0 : 1) : nil
                if b.observe(counts, stopping: stopping, now: at(t)) == .exit { exited = true; break }
                t += b.awaitsConfirmation ? 0.2 : 0.5
            }
            #expect(!exited, "exited at \(t) with offset \(offset)")
        }
    }

    @Test("QUEUE.stopping is sampled about once a second while the work queue shows only consumers")
    func stoppingSampleRate() {
        var b = barrier()
        let busy = QueueCounts(ready: 0, consumers: 2)
        #expect(b.wantsStoppingSample(after: busy, now: at(0)))
        _ = b.observe(busy, stopping: 0, now: at(0))
        #expect(!b.wantsStoppingSample(after: busy, now: at(0.5)))
        _ = b.observe(busy, now: at(0.5))
        #expect(b.wantsStoppingSample(after: busy, now: at(1)))
        #expect(!b.wantsStoppingSample(after: QueueCounts(ready: 3, consumers: 2), now: at(1)))
    }

    @Test("RabbitMQ 4.3 and later hold a lost consumer's items for a minute: the proof outlasts that")
    func windowByVersion() throws {
        #expect(LostConsumerProof.window(forBrokerVersion: "3.10.8") == .seconds(20))
        #expect(LostConsumerProof.window(forBrokerVersion: "3.13.7") == .seconds(20))
        #expect(LostConsumerProof.window(forBrokerVersion: "4.2.1") == .seconds(20))
        #expect(LostConsumerProof.window(forBrokerVersion: "4.3.0") == .seconds(75))
        #expect(LostConsumerProof.window(forBrokerVersion: "4.10.0-rc.1") == .seconds(75))
        #expect(LostConsumerProof.window(forBrokerVersion: "5.0.0") == .seconds(75))
        #expect(LostConsumerProof.window(forBrokerVersion: nil) == .seconds(75))
        #expect(LostConsumerProof.window(forBrokerVersion: "unknown") == .seconds(75))
        var b = barrier()
        b.brokerVersion("4.3.2")
        let exit = try #require(ScriptedQueue(lostOnQueue: 1).runBarrier(&b, limit: 200))
        #expect(exit >= 75 && exit <= 76.5, "exit at \(exit)")
    }
}
