#if canImport(Glibc)
import Glibc
#endif
import Testing

import Core
@testable import Drain

@Suite("A stop asked for by a signal: its grace and the wait for returned items")
struct StopRequestTests {
    @Test("only SIGTERM and SIGINT ask for a stop, and the first one counts")
    func firstSignalCounts() {
        var stop = StopRequest()
        stop.note(SIGCHLD)
        #expect(!stop.isRequested)
        stop.note(SIGINT)
        stop.note(SIGTERM)
        #expect(stop.signalName == "SIGINT")
        #expect(stop.exitCode == ExitCode.interrupted)
    }

    @Test("the grace starts once, at the first look after the signal")
    func deadlines() {
        var stop = StopRequest()
        let early = stop.begin(now: at(1), grace: .seconds(20))
        #expect(!early, "no stop asked for")
        stop.note(SIGTERM)
        let first = stop.begin(now: at(1), grace: .seconds(20))
        let second = stop.begin(now: at(5), grace: .seconds(20))
        #expect(first)
        #expect(!second, "a second begin moves nothing")
        #expect(stop.graceDeadline == at(21))
        #expect(stop.exitCode == ExitCode.terminated)
    }

    @Test("returned copies are waited for during the grace and 5 s after, unless the broker blocks publishing")
    func returnWait() {
        var stop = StopRequest()
        stop.note(SIGTERM)
        _ = stop.begin(now: at(0), grace: .seconds(10))
        #expect(stop.mayWaitForReturns(now: at(9), publishingBlocked: true))
        #expect(!stop.mayWaitForReturns(now: at(10), publishingBlocked: true))
        #expect(stop.mayWaitForReturns(now: at(14.9), publishingBlocked: false))
        #expect(!stop.mayWaitForReturns(now: at(15), publishingBlocked: false))
    }
}
