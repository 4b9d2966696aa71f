import Core

/// What the processor knows of the broker's `consumer_timeout`: given up front
/// (`--consumer-timeout`) or learned from the broker's 406 close; whether the one log line about
/// it was said; and which items this processor saw the broker take back for it, so that a
/// redelivery of one of them is attributed to the timeout, not to a dead processor.
struct ConsumerTimeoutWatch {
    /// The timeout in force; nil while unknown (the broker's default, 30 min, is not assumed).
    private(set) var timeout: ConsumerTimeout?
    /// Whether the broker's close was explained in the log (once per process).
    private(set) var explained = false
    /// Items (by `ItemKey`: the loader's message id, a copy's key, else the body) the broker
    /// took back from this processor for the timeout.
    private var timedOut: Set<UInt64> = []
    private var order: [UInt64] = []

    /// How many timed-out items are remembered (the oldest are forgotten first).
    static let memory = 1000

    init(given: ConsumerTimeout? = nil) {
        timeout = given
    }

    /// The broker closed the work channel for its consumer timeout (`value` when it named one).
    /// Returns true the first time, when the log should explain it.
    mutating func brokerClosed(with value: ConsumerTimeout?) -> Bool {
        if let value { timeout = value }
        defer { explained = true }
        return !explained
    }

    /// When the processor stops the work on an item that arrived at `arrivedAt`, if it knows
    /// the timeout.
    func deadline(arrivedAt: Instant) -> Instant? {
        timeout?.deadline(arrivedAt: arrivedAt)
    }

    /// When an item that arrived at `arrivedAt` and still waits for a slot goes back to the queue.
    func returnBy(arrivedAt: Instant) -> Instant? {
        timeout?.returnBy(arrivedAt: arrivedAt)
    }

    /// Remembers an item the broker took back for the timeout.
    mutating func sawTimeOut(_ delivery: Delivery) {
        let key = ItemKey.of(delivery)
        guard timedOut.insert(key).inserted else { return }
        order.append(key)
        if order.count > Self.memory { timedOut.remove(order.removeFirst()) }
    }

    /// True when the broker took this item back from this processor for the timeout before.
    func timedOutHere(_ delivery: Delivery) -> Bool {
        timedOut.contains(ItemKey.of(delivery))
    }

    /// The failure reason of an attempt stopped for (or lost to) the timeout, with the remedy.
    var reason: String {
        let value = timeout.map { "\($0.milliseconds) ms" } ?? "its value not named"
        return "exceeded the broker's consumer_timeout (\(value)); raise consumer_timeout on the broker "
            + "(per queue on RabbitMQ 3.11.15+: the x-consumer-timeout queue argument or the consumer-timeout policy) "
            + "or set --item-timeout below it"
    }

    /// The one log line after the broker's close.
    var explanation: String {
        let value = timeout.map { "\($0.milliseconds) ms" } ?? "a value it did not name"
        let after = timeout.map {
            "; from now on this processor stops an item \(Format.seconds($0.margin)) s before it (a failed attempt) and returns items that waited too long"
        } ?? ""
        return "the broker closed the work channel: an item stayed unacknowledged past its consumer_timeout (\(value)); "
            + "the work of that channel is stopped (it can no longer be acknowledged) and the broker redelivers its items\(after). "
            + "For longer items raise consumer_timeout on the broker (per queue on RabbitMQ 3.11.15+: the x-consumer-timeout queue argument "
            + "or the consumer-timeout policy), or set --item-timeout below it"
    }
}
