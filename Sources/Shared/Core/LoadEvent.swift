import FoundationEssentials

/// A loader's event on the progress exchange, version 1, `"kind":"load"`: how many items one
/// loader run has had confirmed so far. Counts are cumulative per run (`load`), so a reader keeps
/// the latest event of each run and adds the runs up.
package struct LoadEvent: Codable, Sendable, Equatable {
    /// The value of `kind` that tells a load event from a processor's event (which has no `kind`).
    package static let kind = "load"

    /// The format version (1, as for processor events).
    package var v: Int = ProgressEvent.version
    package var kind: String = LoadEvent.kind
    /// The work queue the items went to.
    package var queue: String
    /// Unique per loader run.
    package var load: String
    /// Items the broker has confirmed in the queue so far.
    package var confirmed: Int
    /// Items the run means to load, when known in advance (`--count`, `ITEM...`, `--from-failed`).
    package var total: Int?
    /// True on the run's last event, sent after the last confirm.
    package var final: Bool
    /// Unix seconds (wall clock) when the run started and when this event was sent.
    package var startedAt: Double
    package var sentAt: Double

    package init(
        queue: String, load: String, confirmed: Int, total: Int? = nil, final: Bool = false,
        startedAt: Double, sentAt: Double
    ) {
        self.queue = queue
        self.load = load
        self.confirmed = confirmed
        self.total = total
        self.final = final
        self.startedAt = startedAt
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case v, kind, queue, load, confirmed, total, final
        case startedAt = "started_at"
        case sentAt = "sent_at"
    }

    /// The event as one line of JSON.
    package func encoded() -> [UInt8] { JSONLine.encode(self) }

    /// Checks the event against `ProgressEvent.Limits`; `wallTime` (Unix seconds), when given, dates it.
    package func screened(wallTime: Double? = nil) -> ScreenedEvent {
        typealias Limits = ProgressEvent.Limits
        guard v == ProgressEvent.version else { return .foreign }
        guard kind == Self.kind else { return .rejected("not a load event") }
        guard !load.isEmpty else { return .rejected("no load id") }
        guard (0...Limits.count).contains(confirmed) else { return .rejected("confirmed \(confirmed) out of 0...\(Limits.count)") }
        if let total {
            guard (0...Limits.count).contains(total) else { return .rejected("total \(total) out of 0...\(Limits.count)") }
            guard confirmed <= total else { return .rejected("confirmed \(confirmed) more than total \(total)") }
        }
        guard startedAt.isFinite, sentAt.isFinite, startedAt > 0, sentAt > 0 else { return .rejected("a time is not a Unix time") }
        let ran = sentAt - startedAt
        guard ran >= -60, ran <= Limits.run else { return .rejected("sent_at - started_at = \(ran) s") }
        if let wallTime, abs(sentAt - wallTime) > Limits.clockSkew { return .rejected("sent_at \(sentAt) more than a day from now") }
        guard Double(confirmed) <= Limits.rate * max(60, ran) else { return .rejected("confirmed \(confirmed) in \(ran) s") }
        var event = self
        var cut = false
        event.load = ProgressEvent.printable(load, cut: &cut)
        return .load(event, cut: cut)
    }
}
