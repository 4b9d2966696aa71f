/// What the queue looks like to the monitor, from the depth samples and the pods' counts.
public enum QueueState: String, Sendable, Equatable, Codable {
    case connecting
    case queueMissing = "queue missing"
    case waitingForWork = "waiting for work"
    case loading
    case draining
    case stalled
    case drained
}

/// One processor as the monitor last heard of it.
public struct PodRow: Sendable, Equatable {
    public var pod: String
    public var instance: String
    public var state: ProcessorState
    /// Silent for the lost timeout without having finished.
    public var lost: Bool
    public var exitCode: Int32?
    public var processed: Int
    public var failed: Int
    public var deadLettered: Int
    public var inHand: Int
    public var rate: Double
    public var current: String?
    /// Seconds since the last event.
    public var lastSeen: Double

    public init(
        pod: String, instance: String = "", state: ProcessorState, lost: Bool = false, exitCode: Int32? = nil,
        processed: Int = 0, failed: Int = 0, deadLettered: Int = 0, inHand: Int = 0, rate: Double = 0,
        current: String? = nil, lastSeen: Double = 0
    ) {
        self.pod = pod
        self.instance = instance
        self.state = state
        self.lost = lost
        self.exitCode = exitCode
        self.processed = processed
        self.failed = failed
        self.deadLettered = deadLettered
        self.inHand = inHand
        self.rate = rate
        self.current = current
        self.lastSeen = lastSeen
    }

    /// Still expected to do or hold work.
    public var live: Bool { !lost && state != .finished }
}

/// Everything one frame shows: a plain value the renderers turn into text.
public struct MonitorSnapshot: Sendable, Equatable {
    public var queue: String
    public var endpoint: String
    /// "reconnecting..." and why, while the broker is unreachable.
    public var connectionProblem: String?
    /// Why the broker blocks publishers (connection.blocked), while it does.
    public var brokerAlarm: String?
    public var state: QueueState = .connecting
    public var ready = 0
    public var consumers = 0
    public var inFlight = 0
    public var processed = 0
    public var failed = 0
    public var deadLettered = 0
    public var rateNow = 0.0
    public var rateMinute = 0.0
    public var eta: Double?
    public var elapsed = 0.0
    /// Oldest first, one per sample.
    public var depthHistory: [Int] = []
    public var rateHistory: [Double] = []
    public var pods: [PodRow] = []
    /// Work was seen, the queue is empty, nothing is in flight and every pod seen has ended.
    public var finished = false

    public init(queue: String, endpoint: String) {
        self.queue = queue
        self.endpoint = endpoint
    }

    public var lostPods: Int { pods.filter(\.lost).count }
    public var workingPods: Int { pods.filter { $0.live && $0.state == .working }.count }
    public var finishedPods: Int { pods.filter { $0.state == .finished && !$0.lost }.count }
}
