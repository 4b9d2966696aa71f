import FoundationEssentials
import Core

/// One `--json` line: the snapshot in stable snake_case fields.
struct MonitorJSON: Encodable {
    struct Pod: Encodable {
        var pod: String
        var instance: String
        var state: String
        var exitCode: Int32?
        var processed: Int
        var failed: Int
        var retried: Int
        var deadLettered: Int
        var inHand: Int
        var rate: Double
        var current: String?
        var lastSeenSeconds: Double
        /// Unix seconds (the pod's clock): its start, its first and its latest event seen.
        var startedAt: Double
        var firstSeenAt: Double
        var lastSeenAt: Double
        /// Seconds its oldest item has run; null when it runs none.
        var runningSeconds: Null<Double>
        var straggler: Bool
        var durations: DurationFigures?

        enum CodingKeys: String, CodingKey {
            case pod, instance, state, processed, failed, retried, rate, current, straggler, durations
            case exitCode = "exit_code"
            case startedAt = "started_at"
            case firstSeenAt = "first_seen_at"
            case lastSeenAt = "last_seen_at"
            case deadLettered = "dead_lettered"
            case inHand = "in_hand"
            case lastSeenSeconds = "last_seen_seconds"
            case runningSeconds = "running_seconds"
        }
    }

    /// A failed attempt, as its failure event told it.
    struct Failure: Encodable {
        var pod: String
        var item: String
        var attempt: Int
        var maxAttempts: Int
        var outcome: String
        var reason: String
        var exitStatus: Int?
        var agoSeconds: Double

        enum CodingKeys: String, CodingKey {
            case pod, item, attempt, outcome, reason
            case maxAttempts = "max_attempts"
            case exitStatus = "exit_status"
            case agoSeconds = "ago_seconds"
        }
    }

    /// One work queue of a sharded Job; `ready` and `consumers` null while it does not exist.
    struct Shard: Encodable {
        var queue: String
        var ready: Null<Int>
        var consumers: Null<Int>
        var lagging: Bool
    }

    var time: Double
    var queue: String
    var state: String
    var connected: Bool
    /// Present while the broker blocks publishers (connection.blocked reason).
    var alarm: String?
    /// Present when the broker refused wqtop's event queue: why (pods and progress then unknown).
    var eventsOff: String?
    var ready: Int
    var consumers: Int
    var inFlight: Int
    var processed: Int
    var failed: Int
    var retried: Int
    var deadLettered: Int
    var rate: Double
    var rateMinute: Double
    var etaSeconds: Double?
    var elapsedSeconds: Double
    var finished: Bool
    /// Progress messages dropped or cut, and instance ids shared (0 when all were sane).
    var badEvents: Int
    /// Items the loaders confirmed, added up; null without load events.
    var loadedTotal: Null<Int>
    /// processed + dead_lettered of loaded_total, in percent (one decimal, at most 100); null without load events.
    var percentDone: Null<Double>
    /// The Job's item durations (all pods' histograms added up); null before any item finished.
    var durations: Null<DurationFigures>
    /// Seconds after which a running item counts as a straggler, and the pods past it now.
    var stragglerAfterSeconds: Double
    var stragglers: Int
    /// The latest failed attempts, newest first (at most `failuresShown`), and all failure events seen.
    var failures: [Failure]
    var failureEvents: Int
    var pods: [Pod]
    /// Each work queue with `--shards N`, N > 1 (absent with one shard: `ready` and `consumers`
    /// are the totals either way).
    var shards: [Shard]?
    /// Why the Job may have another shard count than wqtop was given (absent when none seen).
    var shardsWarning: String?

    static let failuresShown = 10

    typealias Null = JSONNull

    enum CodingKeys: String, CodingKey {
        case time, queue, state, connected, alarm, ready, consumers, processed, failed, retried, rate, finished, pods
        case inFlight = "in_flight"
        case deadLettered = "dead_lettered"
        case rateMinute = "rate_minute"
        case etaSeconds = "eta_seconds"
        case elapsedSeconds = "elapsed_seconds"
        case badEvents = "bad_events"
        case loadedTotal = "loaded_total"
        case percentDone = "percent_done"
        case durations, stragglers, failures
        case stragglerAfterSeconds = "straggler_after_seconds"
        case eventsOff = "events_off"
        case failureEvents = "failure_events"
        case shards
        case shardsWarning = "shards_warning"
    }
}

extension MonitorSnapshot {
    /// The snapshot as one line of JSON (`wqtop --json`).
    package func jsonLine(time: Double) -> String {
        let round: (Double) -> Double = { ($0 * 10).rounded() / 10 }
        let value = MonitorJSON(
            time: (time * 1000).rounded() / 1000, queue: queue, state: finished ? "finished" : state.rawValue,
            connected: connectionProblem == nil, alarm: brokerAlarm, eventsOff: eventsOff, ready: ready, consumers: consumers, inFlight: inFlight,
            processed: processed, failed: failed, retried: retried, deadLettered: deadLettered, rate: round(rateNow),
            rateMinute: round(rateMinute), etaSeconds: eta.map(round), elapsedSeconds: round(elapsed), finished: finished,
            badEvents: badEvents, loadedTotal: .init(value: loadedTotal), percentDone: .init(value: percentDone.map(NumberFormat.tenthsDown)),
            durations: .init(value: DurationFigures(itemDurations?.summary)), stragglerAfterSeconds: round(stragglerAfter),
            stragglers: stragglers,
            failures: failures.prefix(MonitorJSON.failuresShown).map {
                MonitorJSON.Failure(
                    pod: $0.event.pod, item: $0.event.item, attempt: $0.event.attempt, maxAttempts: $0.event.maxAttempts,
                    outcome: $0.event.outcome.rawValue, reason: $0.event.reason, exitStatus: $0.event.exitStatus, agoSeconds: round($0.ago))
            },
            failureEvents: failureEvents,
            pods: pods.map {
                MonitorJSON.Pod(
                    pod: $0.pod, instance: $0.instance, state: $0.lost ? "lost" : $0.state.rawValue, exitCode: $0.exitCode,
                    processed: $0.processed, failed: $0.failed, retried: $0.retried, deadLettered: $0.deadLettered,
                    inHand: $0.inHand, rate: round($0.rate), current: $0.current, lastSeenSeconds: round($0.lastSeen),
                    startedAt: Receipt.seconds($0.startedAt), firstSeenAt: Receipt.seconds($0.firstSeenAt),
                    lastSeenAt: Receipt.seconds($0.lastSeenAt),
                    runningSeconds: .init(value: $0.runningFor.map(DurationFigures.milliseconds)),
                    straggler: $0.isStraggling(after: stragglerAfter), durations: DurationFigures($0.durations))
            },
            shards: shards.isEmpty ? nil : shards.map {
                MonitorJSON.Shard(queue: $0.queue, ready: .init(value: $0.counts?.ready), consumers: .init(value: $0.counts?.consumers), lagging: $0.lagging)
            },
            shardsWarning: shardMismatch)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The `--once` frame as plain text, trailing spaces trimmed.
    package func textReport(width: Int = 100) -> String {
        Renderer(width: width, height: 0).report(self).map { line in
            var text = line.text
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }.joined(separator: "\n")
    }
}
