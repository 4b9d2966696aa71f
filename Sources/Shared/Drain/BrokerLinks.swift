import Core
import AMQPClient

/// The processor's two connections: one consumes and acknowledges, the other publishes copies
/// and progress events with confirms, so that a resource alarm (which blocks connections that
/// publish) never stops the work. Owns which broker address comes next and the generation
/// that tells deliveries of an older connection apart.
struct BrokerLinks {
    /// Consumes, acknowledges, samples queues; never publishes.
    private(set) var consume: (any WorkBroker)?
    /// Publishes with confirms: retries, dead letters, returns, progress events.
    private(set) var publish: (any WorkBroker)?
    /// Bumped on every loss; deliveries from an older connection cannot be acknowledged.
    private(set) var generation = 0
    /// The broker address to try first on the next connect (the one after the last lost).
    private var nextAddress: Int

    /// Opens one connection (`AMQPConnection.open`, or a test's double).
    private let opener: BrokerOpener

    /// Starts at `startAddress` (`ConnectionSettings.startAddress`: spread over a cluster).
    init(startAddress: Int, opener: @escaping BrokerOpener) {
        nextAddress = startAddress
        self.opener = opener
    }

    /// Opens both connections, the publishing one to the same broker and in confirm mode.
    mutating func open(_ base: ConnectionSettings, podName: String) throws {
        var settings = base
        settings.clientName = "processor \(podName) (consume)"
        let consume = try opener(settings, nextAddress, .consume)
        nextAddress = consume.addressIndex
        self.consume = consume
        settings.clientName = "processor \(podName) (publish)"
        let publish = try opener(settings, consume.addressIndex, .publish)
        self.publish = publish
        try publish.enableConfirms()
    }

    /// After a lost connection: both are dropped, the next connect starts at the address after
    /// the lost one, and what was delivered before belongs to the old generation.
    mutating func lost() {
        if let consume { nextAddress = consume.nextAddressIndex }
        drop()
        generation += 1
    }

    /// Forgets both connections without a goodbye (lost, or half made).
    mutating func drop() {
        consume?.abandon()
        consume = nil
        publish?.abandon()
        publish = nil
    }

    /// Closes both connections politely.
    func close() {
        publish?.close()
        consume?.close()
    }
}
