import Testing

@testable import Core

@Suite("Acknowledgement batching never covers an unsettled delivery")
struct AckBatcherTests {
    typealias Ack = AckBatcher.Ack

    func batcher(delivered tags: ClosedRange<UInt64>) -> AckBatcher {
        var b = AckBatcher()
        for tag in tags { b.delivered(tag) }
        return b
    }

    @Test("finished items below every unsettled one go out as one multiple ack")
    func oneMultipleAck() {
        var b = batcher(delivered: 1...5)
        for tag: UInt64 in [1, 2, 3] { b.succeeded(tag) }
        let first = b.flush()
        #expect(first == [Ack(tag: 3, multiple: true)])
        #expect(b.pending == 0)
        let second = b.flush()
        #expect(second == [])
    }

    @Test("an item finished above an older running one is acknowledged alone")
    func outOfOrder() {
        var b = batcher(delivered: 1...4)
        b.succeeded(3)
        b.succeeded(4)
        let flushed1 = b.flush()

        #expect(flushed1 == [Ack(tag: 3, multiple: false), Ack(tag: 4, multiple: false)])
        b.succeeded(1)
        let flushed2 = b.flush()

        #expect(flushed2 == [Ack(tag: 1, multiple: true)])
        b.succeeded(2)
        let flushed3 = b.flush()

        #expect(flushed3 == [Ack(tag: 2, multiple: true)])
        #expect(b.unsettledCount == 0)
    }

    @Test("an item whose move to another queue threw is never covered, on any later flush")
    func failedMoveStaysUnsettled() {
        // Two --stdio workers: tag 1 failed and its move to QUEUE.failed threw (returned,
        // nacked, no confirm); tag 2 succeeded in the same pass, then the fatal path flushes.
        var b = batcher(delivered: 1...2)
        b.succeeded(2)
        let flushed4 = b.flush()

        #expect(flushed4 == [Ack(tag: 2, multiple: false)])
        for tag: UInt64 in 3...6 { b.delivered(tag) }
        for tag: UInt64 in 3...6 { b.succeeded(tag) }
        let acks = b.flush()
        #expect(!acks.contains { $0.multiple }, "a multiple ack would acknowledge tag 1 too: \(acks)")
        #expect(acks.map(\.tag) == [3, 4, 5, 6])
        #expect(b.unsettledCount == 1)
    }

    @Test("items moved elsewhere (retried, dead-lettered, returned) let the floor rise past them")
    func settledElsewhere() {
        var b = batcher(delivered: 1...4)
        b.succeeded(2)
        let settled = b.settledElsewhere(1)
        #expect(settled)
        b.succeeded(3)
        let flushed5 = b.flush()

        #expect(flushed5 == [Ack(tag: 3, multiple: true)])
        let again = b.settledElsewhere(1)
        #expect(!again, "settling twice is refused")
        let late = b.succeeded(1)
        #expect(!late)
    }

    @Test("waiting (prefetched, not started) items hold the floor like running ones")
    func waitingHoldsFloor() {
        var b = batcher(delivered: 1...3)
        b.succeeded(1)
        b.succeeded(3)
        let flushed6 = b.flush()

        #expect(flushed6 == [Ack(tag: 3, multiple: false), Ack(tag: 1, multiple: true)])
    }

    @Test("a reconnect forgets the old connection's tags; the new ones start again at 1")
    func generations() {
        var b = batcher(delivered: 1...3)
        b.succeeded(3)
        b.reset()
        #expect(b.pending == 0)
        let flushed7 = b.flush()

        #expect(flushed7 == [])
        let old = b.succeeded(2)
        #expect(!old, "a tag of the old connection is unknown to the new one")
        b.delivered(1)
        b.delivered(2)
        b.succeeded(2)
        let flushed8 = b.flush()

        #expect(flushed8 == [Ack(tag: 2, multiple: false)])
        b.succeeded(1)
        let flushed9 = b.flush()

        #expect(flushed9 == [Ack(tag: 1, multiple: true)])
    }

    @Test("random interleavings: every multiple ack covers only finished or already acknowledged tags")
    func randomInterleavings() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var b = AckBatcher()
            var state: [UInt64: String] = [:]  // delivered, finished, acked, moved, stuck
            var next: UInt64 = 1
            for _ in 0..<300 {
                switch Int.random(in: 0..<6, using: &generator) {
                case 0, 1:
                    b.delivered(next)
                    state[next] = "delivered"
                    next += 1
                case 2:
                    if let tag = state.filter({ $0.value == "delivered" }).keys.randomElement(using: &generator) {
                        b.succeeded(tag)
                        state[tag] = "finished"
                    }
                case 3:
                    if let tag = state.filter({ $0.value == "delivered" }).keys.randomElement(using: &generator) {
                        if Bool.random(using: &generator) {
                            b.settledElsewhere(tag)
                            state[tag] = "acked"
                        } else {
                            state[tag] = "stuck"  // a move that threw: never settled
                        }
                    }
                default:
                    for ack in b.flush() {
                        if ack.multiple {
                            for (tag, s) in state where tag <= ack.tag && s != "acked" {
                                #expect(s == "finished", "multiple ack \(ack.tag) covers tag \(tag), which is \(s)")
                                state[tag] = "acked"
                            }
                        } else {
                            #expect(state[ack.tag] == "finished")
                            state[ack.tag] = "acked"
                        }
                    }
                    #expect(!state.values.contains("finished"), "a finished item was left unacknowledged by a flush")
                }
            }
        }
    }
}

@Suite("Attempts: failures and processors that died with the item")
struct AttemptTests {
    let policy = FailurePolicy(maxAttempts: 3)

    @Test("a first delivery is attempt 1; a retried copy carries its number")
    func firstDelivery() {
        #expect(policy.admit(headers: [:], redelivered: false) == .run(attempt: 1))
        #expect(policy.admit(headers: ["x-attempts": .int(2)], redelivered: false) == .run(attempt: 2))
    }

    @Test("classic queue: a redelivered item is restamped with the death counted, then parked after max attempts")
    func classicDeaths() {
        #expect(policy.admit(headers: [:], redelivered: true) == .restamp(attempt: 2, died: 1))
        #expect(policy.admit(headers: ["x-attempts": .int(2)], redelivered: true) == .restamp(attempt: 3, died: 1))
        #expect(policy.admit(headers: ["x-attempts": .int(3)], redelivered: false) == .run(attempt: 3))
        #expect(policy.admit(headers: ["x-attempts": .int(3)], redelivered: true) == .deadLetter(attempts: 3, died: 1))
    }

    @Test("quorum queue: the broker's x-delivery-count counts the deaths, no restamp needed")
    func quorumDeaths() {
        #expect(policy.admit(headers: ["x-delivery-count": .int(1)], redelivered: true) == .run(attempt: 2))
        #expect(policy.admit(headers: ["x-delivery-count": .int(2)], redelivered: true) == .run(attempt: 3))
        #expect(policy.admit(headers: ["x-delivery-count": .int(3)], redelivered: true) == .deadLetter(attempts: 3, died: 3))
        #expect(policy.admit(headers: ["x-attempts": .int(2), "x-delivery-count": .int(2)], redelivered: true) == .deadLetter(attempts: 3, died: 2))
    }

    @Test("a copy returned on SIGTERM carries its attempt number and spends nothing")
    func returnsKeepTheNumber() {
        let died = Delivery(tag: 1, body: [], redelivered: false, headers: ["x-attempts": .int(1), "x-delivery-count": .int(1)])
        #expect(FailurePolicy.attempt(of: died) == 2)
        let fresh = Delivery(tag: 1, body: [], redelivered: false, headers: ["x-attempts": .int(2)])
        #expect(FailurePolicy.attempt(of: fresh) == 2)
        #expect(policy.admit(headers: ["x-attempts": .int(4)], redelivered: false) == .deadLetter(attempts: 3, died: 0))
    }

    @Test("--max-attempts 1: a death parks the item at once")
    func oneAttempt() {
        #expect(FailurePolicy(maxAttempts: 1).admit(headers: [:], redelivered: true) == .deadLetter(attempts: 1, died: 1))
    }

    @Test("a copy drops what described an earlier outcome; --from-failed drops all bookkeeping")
    func copiedHeaders() {
        #expect(FailurePolicy.staleOnCopy.contains("x-delivery-count"))
        #expect(!FailurePolicy.staleOnCopy.contains("x-attempts"))
        #expect(FailurePolicy.bookkeeping.isSuperset(of: ["x-attempts", "x-failure-reason", "x-exit-status", "x-failed-by", "x-last-failure"]))
        #expect(FailurePolicy.staleOnCopy.contains("x-failed-at"), "a retry or a move back forgets when the item last failed")
    }
}

@Suite("Copies on their way: confirms before the originals are acknowledged")
struct PendingMovesTests {
    func delivery(_ tag: UInt64) -> Delivery { Delivery(tag: tag, body: [], redelivered: false, headers: [:]) }

    @Test("copies are published in order until the broker blocks, and only confirmed ones are taken")
    func publishAndConfirm() {
        var moves = PendingMoves()
        for tag: UInt64 in 1...3 { moves.add(delivery(tag), to: "q", headers: []) }
        var next: UInt64 = 0
        moves.publishWaiting(now: at(10)) { move in
            guard move.delivery.tag < 3 else { return nil }  // blocked before the third
            next += 1
            return next
        }
        #expect(moves.unpublished == 1)
        #expect(moves.oldestUnconfirmed == at(10))
        let taken = moves.takeConfirmed { $0 == 2 }
        #expect(taken.map(\.delivery.tag) == [2])
        #expect(moves.count == 2)
        moves.restartClocks(now: at(50))
        #expect(moves.oldestUnconfirmed == at(50))
        moves.removeAll()
        #expect(moves.isEmpty)
    }
}
