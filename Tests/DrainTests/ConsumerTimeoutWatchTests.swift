import Testing

import Core
@testable import Drain

@Suite("What the processor knows of the broker's consumer_timeout, and the deadline it sets an item")
struct ConsumerTimeoutWatchTests {
    func item(_ body: String, arrivedAt: Instant = at(0)) -> RunningItem {
        RunningItem(
            delivery: Delivery(tag: 1, body: Array(body.utf8), redelivered: false, headers: [:]), generation: 0, attempt: 1,
            startedAt: arrivedAt + .milliseconds(500), deliveredAt: arrivedAt)
    }

    @Test("unknown until given or learned; the broker's close is explained once; its value wins")
    func learning() {
        var watch = ConsumerTimeoutWatch()
        #expect(watch.timeout == nil && watch.deadline(arrivedAt: at(10)) == nil)
        let first = watch.brokerClosed(with: ConsumerTimeout(milliseconds: 5000))
        #expect(first && watch.deadline(arrivedAt: at(10)) == at(14))
        let second = watch.brokerClosed(with: ConsumerTimeout(milliseconds: 5000))
        #expect(!second, "said once per process")
        var given = ConsumerTimeoutWatch(given: ConsumerTimeout(milliseconds: 60_000))
        #expect(given.deadline(arrivedAt: at(0)) == at(54))
        let unnamed = given.brokerClosed(with: nil)
        #expect(unnamed && given.timeout?.milliseconds == 60_000, "a close without a value keeps what was given")
        let named = given.brokerClosed(with: ConsumerTimeout(milliseconds: 5000))
        #expect(!named && given.timeout?.milliseconds == 5000, "the broker's word wins")
    }

    @Test("the reason names the value and the remedies; the explanation says what happens from now on")
    func texts() {
        var watch = ConsumerTimeoutWatch()
        _ = watch.brokerClosed(with: ConsumerTimeout(milliseconds: 5000))
        #expect(watch.reason.hasPrefix("exceeded the broker's consumer_timeout (5000 ms); raise consumer_timeout on the broker"))
        #expect(watch.reason.contains("x-consumer-timeout") && watch.reason.contains("--item-timeout"))
        #expect(watch.explanation.contains("consumer_timeout (5000 ms)") && watch.explanation.contains("\(Format.seconds(1)) s before it"))
        #expect(!watch.reason.contains("\n") && !watch.explanation.contains("\n"))
    }

    @Test("items the broker took back are remembered by their item key (the loader's message id), the oldest forgotten first")
    func remembered() {
        func item(_ id: String, body: String = "same bytes") -> Delivery {
            Delivery(tag: 1, body: Array(body.utf8), redelivered: true, headers: [:], properties: MessageProperties(messageID: id))
        }
        var watch = ConsumerTimeoutWatch()
        watch.sawTimeOut(item("load-1"))
        // Equal bytes, another item: not taken for the one that timed out.
        #expect(watch.timedOutHere(item("load-1")) && !watch.timedOutHere(item("load-2")))
        for i in 0..<ConsumerTimeoutWatch.memory { watch.sawTimeOut(item("other-\(i)")) }
        #expect(!watch.timedOutHere(item("load-1")) && watch.timedOutHere(item("other-999")))
    }

    @Test("an item's deadline is the earlier of --item-timeout and the broker's, and says which")
    func deadlineChoice() {
        var running = item("a", arrivedAt: at(0))
        running.setDeadline(itemTimeoutAt: at(10), brokerDeadline: at(4))
        #expect(running.timeoutAt == at(4) && running.timeoutFor == .consumerTimeout)
        running.setDeadline(itemTimeoutAt: at(3), brokerDeadline: at(4))
        #expect(running.timeoutAt == at(3) && running.timeoutFor == .timeout)
        running.setDeadline(itemTimeoutAt: nil, brokerDeadline: at(4))
        #expect(running.timeoutAt == at(4) && running.timeoutFor == .consumerTimeout)
        running.setDeadline(itemTimeoutAt: at(7), brokerDeadline: nil)
        #expect(running.timeoutAt == at(7) && running.timeoutFor == .timeout)
        running.setDeadline(itemTimeoutAt: nil, brokerDeadline: nil)
        #expect(running.timeoutAt == nil)
    }

    @Test("the items the broker's close took back: those held about the timeout, else the oldest")
    func whichTimedOut() {
        var slots = WorkSlots(concurrency: 3)
        slots.add(item("old", arrivedAt: at(0)))
        slots.add(item("older", arrivedAt: at(-1)))
        slots.add(item("new", arrivedAt: at(5)))
        let five = ConsumerTimeout(milliseconds: 5000)
        #expect(slots.timedOut(now: at(6), after: five).map(\.label) == ["old", "older"])
        #expect(slots.timedOut(now: at(6), after: nil).map(\.label) == ["older"])
        #expect(slots.timedOut(now: at(1), after: five).map(\.label) == ["older"])
    }

    @Test("waiting deliveries that arrived before a cutoff are taken in order; the rest keep their arrival")
    func overdueWaiting() {
        var intake = Intake(startedAt: at(0), waitForWork: .zero)
        for tag in 1...3 { intake.delivered(Delivery(tag: UInt64(tag), body: [], redelivered: false, headers: [:]), now: at(Double(tag))) }
        #expect(intake.takeArrived(before: at(2.5)).map(\.tag) == [1, 2])
        #expect(intake.nextArrival == at(3) && intake.waiting.map(\.tag) == [3])
        #expect(intake.takeNext().tag == 3 && intake.nextArrival == nil)
    }
}
