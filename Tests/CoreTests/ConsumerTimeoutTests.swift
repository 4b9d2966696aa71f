import Testing

import Core

@Suite("The broker's consumer_timeout: read from its close, and when to stop an item before it")
struct ConsumerTimeoutTests {
    /// What RabbitMQ 3.10.8 sends (seen on the test broker with consumer_timeout 5000).
    static let rabbit310 =
        "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 5000 ms. This timeout value can be configured, see consumers doc guide to learn more"

    @Test("the value is read from RabbitMQ's close text; other closes and texts without a value give none")
    func parsing() {
        #expect(ConsumerTimeout(closeText: Self.rabbit310) == ConsumerTimeout(milliseconds: 5000))
        #expect(ConsumerTimeout(closeText: "PRECONDITION_FAILED - delivery acknowledgement on channel 7 timed out. Timeout value used: 1800000 ms.")?.milliseconds == 1_800_000)
        #expect(ConsumerTimeout(closeText: "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out") == nil)
        #expect(ConsumerTimeout.isConsumerTimeout("PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out"))
        #expect(ConsumerTimeout(closeText: "PRECONDITION_FAILED - inequivalent arg 'x-queue-type'") == nil)
        #expect(ConsumerTimeout(closeText: "delivery acknowledgement on channel 1 timed out. Timeout value used: abc ms") == nil)
        #expect(ConsumerTimeout(closeText: "delivery acknowledgement on channel 1 timed out. Timeout value used: 0 ms") == nil)
    }

    @Test("the margin is a tenth of the timeout, at least 1 s, at most 60 s, never more than half of it")
    func margin() {
        #expect(ConsumerTimeout(milliseconds: 5000).margin == .seconds(1))
        #expect(ConsumerTimeout(milliseconds: 60_000).margin == .seconds(6))
        #expect(ConsumerTimeout(milliseconds: 1_800_000).margin == .seconds(60))
        #expect(ConsumerTimeout(milliseconds: 1000).margin == .milliseconds(500))
    }

    @Test("the processor's deadline runs from the delivery, the margin before the broker's")
    func deadline() {
        #expect(ConsumerTimeout(milliseconds: 5000).deadline(arrivedAt: at(100)) == at(104))
        #expect(ConsumerTimeout(milliseconds: 1_800_000).deadline(arrivedAt: at(0)) == at(1740))
        #expect(ConsumerTimeout(milliseconds: 5000).returnBy(arrivedAt: at(100)) == at(103), "a waiting item goes back a margin earlier")
    }
}
