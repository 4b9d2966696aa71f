import Testing

import Core
import Monitor

/// Builds events the way a processor sends them.
func event(
    _ pod: String, _ state: ProcessorState, processed: Int, inHand: Int = 0, seq: Int = 0, instance: String? = nil,
    exitCode: Int32? = nil, failed: Int = 0, rate: Double = 0, queue: String = "jobs"
) -> ProgressEvent {
    ProgressEvent(
        queue: queue, pod: pod, instance: instance ?? "id-\(pod)", state: state, exitCode: exitCode, processed: processed,
        failed: failed, inHand: inHand, startedAt: 1000, sentAt: 1000 + Double(seq), rate: rate, seq: seq)
}

@Suite("wqtop's model: queue states, rates, ETA and pods from sequences of samples")
struct MonitorModelTests {
    @Test("an empty queue with nothing seen is waiting for work, not drained")
    func waitingForWork() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        #expect(model.snapshot(at: at(0)).state == .connecting)
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(0))
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(1))
        let s = model.snapshot(at: at(1))
        #expect(s.state == .waitingForWork)
        #expect(!s.finished)
    }

    @Test("a missing queue is reported as missing")
    func missingQueue() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(nil, at: at(0))
        #expect(model.snapshot(at: at(0)).state == .queueMissing)
    }

    @Test("ready rising is loading; falling with pods working is draining, with rate and ETA")
    func loadingThenDraining() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(0))
        model.sample(QueueCounts(ready: 500, consumers: 0), at: at(1))
        #expect(model.snapshot(at: at(1)).state == .loading)
        model.sample(QueueCounts(ready: 1000, consumers: 0), at: at(2))
        model.receive(event("a", .working, processed: 0, inHand: 1, seq: 0), at: at(2))
        model.sample(QueueCounts(ready: 1000, consumers: 1), at: at(3))
        model.receive(event("a", .working, processed: 100, inHand: 1, seq: 1), at: at(3.5))
        model.sample(QueueCounts(ready: 900, consumers: 1), at: at(4))
        model.receive(event("a", .working, processed: 200, inHand: 1, seq: 2), at: at(4.5))
        model.sample(QueueCounts(ready: 800, consumers: 1), at: at(5))
        let s = model.snapshot(at: at(5))
        #expect(s.state == .draining)
        #expect(s.processed == 200)
        #expect(s.inFlight == 1)
        // 200 items over the 5 s window (t=0..5): 40/s; 801 left (800 ready, 1 in hand) -> 20 s.
        #expect(abs(s.rateNow - 40) < 0.001)
        #expect(abs((s.eta ?? 0) - 20.025) < 0.001)
        #expect(s.depthHistory == [0, 500, 1000, 1000, 900, 800])
    }

    @Test("work left, no consumers and no progress for the stall time is stalled; progress ends it")
    func stalled() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(QueueCounts(ready: 10, consumers: 0), at: at(0))
        for t in 1...4 { model.sample(QueueCounts(ready: 10, consumers: 0), at: at(Double(t))) }
        #expect(model.snapshot(at: at(4)).state == .draining)
        model.sample(QueueCounts(ready: 10, consumers: 0), at: at(5))
        #expect(model.snapshot(at: at(5)).state == .stalled)
        #expect(model.snapshot(at: at(5)).eta == nil)
        model.sample(QueueCounts(ready: 9, consumers: 1), at: at(6))
        #expect(model.snapshot(at: at(6)).state == .draining)
    }

    @Test("a pod working on a long item is not stalled")
    func longItemIsNotStalled() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        for t in 0...10 {
            model.receive(event("a", .working, processed: 0, inHand: 1, seq: t), at: at(Double(t)))
            model.sample(QueueCounts(ready: 10, consumers: 1), at: at(Double(t)))
        }
        #expect(model.snapshot(at: at(10)).state == .draining)
    }

    @Test("drained and every pod finished is the end of the Job; a live pod keeps it open")
    func finishedNeedsEveryPod() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(QueueCounts(ready: 5, consumers: 2), at: at(0))
        model.receive(event("a", .working, processed: 3, seq: 0), at: at(0.5))
        model.receive(event("b", .working, processed: 2, seq: 0), at: at(0.5))
        model.receive(event("a", .finished, processed: 3, seq: 1, exitCode: 0), at: at(1.2))
        model.receive(event("b", .waitingForOthers, processed: 2, seq: 1), at: at(1.2))
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(1.5))
        var s = model.snapshot(at: at(1.5))
        #expect(s.state == .drained)
        #expect(!s.finished)
        model.receive(event("b", .finished, processed: 2, seq: 2, exitCode: 0), at: at(2))
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(2.5))
        s = model.snapshot(at: at(2.5))
        #expect(s.finished)
        #expect(s.processed == 5)
        #expect(s.finishedPods == 2)
    }

    @Test("a pod silent for three intervals (at least 3 s) is lost; a finished pod never is")
    func lostPods() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.receive(event("a", .working, processed: 7, inHand: 2, seq: 0), at: at(0))
        model.receive(event("b", .finished, processed: 1, seq: 0, exitCode: 0), at: at(0))
        model.sample(QueueCounts(ready: 0, consumers: 0), at: at(0))
        #expect(model.snapshot(at: at(2.9)).pods.map(\.lost) == [false, false])
        let s = model.snapshot(at: at(3.1))
        #expect(s.pods.map(\.lost) == [true, false])
        #expect(s.inFlight == 0, "a lost pod's items are back in the queue")
        #expect(s.processed == 8, "a lost pod keeps its counts")
        #expect(s.lostPods == 1)
        // During a broker alarm processors cannot publish events: silence is not loss then.
        model.link.brokerAlarm = "low on disk"
        #expect(model.snapshot(at: at(3.1)).pods.map(\.lost) == [false, false])
    }

    @Test("two processors with one pod name stay apart; older and foreign events are ignored")
    func instancesAndOrdering() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.receive(event("same", .working, processed: 10, seq: 5, instance: "x"), at: at(0))
        model.receive(event("same", .working, processed: 20, seq: 1, instance: "y"), at: at(0))
        model.receive(event("same", .working, processed: 4, seq: 4, instance: "x"), at: at(0.1))
        model.receive(event("other", .working, processed: 99, queue: "elsewhere"), at: at(0.1))
        model.sample(QueueCounts(ready: 1, consumers: 2), at: at(0.2))
        let s = model.snapshot(at: at(0.2))
        #expect(s.pods.map(\.instance) == ["x", "y"])
        #expect(s.processed == 30)
    }

    @Test("without progress events, throughput comes from the queue's depth")
    func rateFromDepthAlone() {
        var model = MonitorModel(queue: "jobs", endpoint: "h:1", interval: .seconds(1))
        model.sample(QueueCounts(ready: 100, consumers: 1), at: at(0))
        model.sample(QueueCounts(ready: 80, consumers: 1), at: at(1))
        model.sample(QueueCounts(ready: 60, consumers: 1), at: at(2))
        let s = model.snapshot(at: at(2))
        #expect(s.processed == 40)
        #expect(abs(s.rateNow - 20) < 0.001)
        #expect(abs((s.eta ?? 0) - 3) < 0.001)
    }
}

@Suite("Progress events: the versioned JSON processors publish")
struct ProgressEventTests {
    @Test("an event survives encoding with the documented snake_case field names")
    func roundTrip() throws {
        var e = event("pod-1", .finished, processed: 12, inHand: 0, seq: 3, exitCode: 0, failed: 2, rate: 4.5)
        e.current = "file \"a\".png"
        let text = String(decoding: e.encoded(), as: UTF8.self)
        for key in ["\"v\":1", "\"pod\":\"pod-1\"", "\"state\":\"finished\"", "\"exit_code\":0", "\"in_hand\":0", "\"dead_lettered\":0", "\"started_at\":", "\"sent_at\":"] {
            #expect(text.contains(key), "\(text)")
        }
        #expect(ProgressEvent.decode(e.encoded()) == e)
    }

    @Test("anything that is not a version-1 event is ignored")
    func foreignMessages() {
        #expect(ProgressEvent.decode(Array("hello".utf8)) == nil)
        #expect(ProgressEvent.decode(Array(#"{"v":2,"pod":"x"}"#.utf8)) == nil)
        var future = event("p", .idle, processed: 1)
        future.v = 2
        #expect(ProgressEvent.decode(future.encoded()) == nil)
    }

    @Test("the rate meter measures over its window from cumulative counts")
    func rateMeter() {
        var meter = RateMeter(window: .seconds(10))
        #expect(meter.rate == 0)
        for t in 0...30 { meter.record(t * 50, at: at(Double(t))) }
        #expect(abs(meter.rate - 50) < 0.001)
        #expect(meter.span >= .seconds(10) && meter.span <= .seconds(11))
    }
}
