import FoundationEssentials

/// What a processor is doing, as its progress events say.
package enum ProcessorState: String, Codable, Sendable, CaseIterable {
    case starting
    case working
    case idle
    case waitingForOthers = "waiting-for-others"
    case stopping
    case finished
}

/// One progress event, version 1: a processor's cumulative counts and state. Counts are
/// cumulative since the processor started, so a lost event loses nothing. Version 1 grows only
/// by optional fields (`durations` and `running_for` came in 0.5.0, `consumer_timeout_ms`
/// later); readers ignore fields they
/// do not know, and `v` changes only when a field changes its meaning.
package struct ProgressEvent: Codable, Sendable, Equatable {
    package static let version = 1

    /// The format version (1).
    package var v: Int = ProgressEvent.version
    /// The work queue the processor drains.
    package var queue: String
    /// POD_NAME, else HOSTNAME, else the host name.
    package var pod: String
    /// Unique per processor run, so two processors with one pod name do not merge.
    package var instance: String
    package var state: ProcessorState
    /// Set once `state` is `finished`.
    package var exitCode: Int32?
    package var processed: Int
    /// Failed attempts (each retry and each dead letter).
    package var failed: Int
    package var retried: Int
    package var deadLettered: Int
    /// Items delivered to the processor and not yet settled (running or waiting).
    package var inHand: Int
    /// The item being worked on longest, shortened; nil when none.
    package var current: String?
    /// Seconds `current` has been running when the event was sent; nil when none runs.
    package var runningFor: Double?
    /// The broker's consumer_timeout in milliseconds, when the processor knows it (given, or
    /// learned from the broker's close); nil while unknown and from older processors.
    package var consumerTimeoutMS: Int?
    /// How long the items finished so far took (successes and failed attempts); nil when none
    /// finished yet or from processors older than 0.5.0.
    package var durations: DurationSummary?
    /// Unix seconds (wall clock) when the processor started and when this event was sent.
    package var startedAt: Double
    package var sentAt: Double
    /// Items per second over about the last ten seconds.
    package var rate: Double
    /// Events this instance sent before this one, to spot losses.
    package var seq: Int
    /// Repeat notes (see `RepeatNotes`; nil from processors older than 0.6.0): keys (`ItemKey`, 16
    /// hex digits) of messages finished whose acknowledgement may not have reached the broker...
    package var unsettled: [String]?
    /// ... of messages whose copy to the work queue was published but not yet confirmed ...
    package var copying: [String]?
    /// ... of messages delivered lately with `redelivered` or `x-delivery-count` ...
    package var redelivered: [String]?
    /// ... and of the messages whose copies were delivered lately (`x-copy-of`).
    package var copies: [String]?
    /// How many keys the processor put in `redelivered` and `copies` in all since it started:
    /// those lists are the newest of them (kept a minute), so a reader knows what it missed.
    package var redeliveredSeen: Int?
    package var copiesSeen: Int?
    /// ... of this processor's orphans (finished, and the connection lost before the broker surely
    /// had their acknowledgement) delivered to it again, with `redelivered` or without (never in
    /// `redelivered`), the newest of the last minute; `orphansBackSeen` their total.
    package var orphansBack: [String]?
    package var orphansBackSeen: Int?
    /// Keys the processor could not name (lists too long): wqtop cannot be exact then.
    package var omitted: Int?

    package init(
        queue: String, pod: String, instance: String, state: ProcessorState, exitCode: Int32? = nil,
        processed: Int = 0, failed: Int = 0, retried: Int = 0, deadLettered: Int = 0, inHand: Int = 0,
        current: String? = nil, runningFor: Double? = nil, durations: DurationSummary? = nil, startedAt: Double = 0, sentAt: Double = 0, rate: Double = 0, seq: Int = 0
    ) {
        self.queue = queue
        self.pod = pod
        self.instance = instance
        self.state = state
        self.exitCode = exitCode
        self.processed = processed
        self.failed = failed
        self.retried = retried
        self.deadLettered = deadLettered
        self.inHand = inHand
        self.current = current
        self.runningFor = runningFor
        self.durations = durations
        self.startedAt = startedAt
        self.sentAt = sentAt
        self.rate = rate
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey {
        case v, queue, pod, instance, state, processed, failed, retried, current, rate, seq, durations
        case unsettled, copying, redelivered, copies, omitted
        case redeliveredSeen = "redelivered_seen"
        case copiesSeen = "copies_seen"
        case orphansBack = "orphans_back"
        case orphansBackSeen = "orphans_back_seen"
        case runningFor = "running_for"
        case consumerTimeoutMS = "consumer_timeout_ms"
        case exitCode = "exit_code"
        case deadLettered = "dead_lettered"
        case inHand = "in_hand"
        case startedAt = "started_at"
        case sentAt = "sent_at"
    }

    /// Decodes an event; nil for anything that is not a version-1 event (other tools may
    /// publish to the exchange too).
    package static func decode(_ bytes: [UInt8]) -> ProgressEvent? {
        guard let event = try? JSONDecoder().decode(ProgressEvent.self, from: Data(bytes)), event.v == version else {
            return nil
        }
        return event
    }
}
