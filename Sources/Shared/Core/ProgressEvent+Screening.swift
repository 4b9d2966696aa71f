import FoundationEssentials

/// What a reader makes of one message from the progress exchange.
package enum ScreenedEvent: Sendable, Equatable {
    /// A sane event, its strings made printable; `cut` when a string was too long (a bad event too).
    case accepted(ProgressEvent, cut: Bool)
    /// A sane load event (`"kind":"load"`), its load id made printable; `cut` as above.
    case load(LoadEvent, cut: Bool)
    /// A sane failure event (`"kind":"failure"`), its strings made printable; `cut` as above.
    case failure(FailureEvent, cut: Bool)
    /// Another format version (`v` other than 1): for another reader, ignored and not counted.
    case foreign
    /// Dropped as bad, with the reason.
    case rejected(String)
}

extension ProgressEvent {
    /// The bounds a version-1 event keeps; anything beyond them no processor sends. Written down
    /// once, here: a message outside them is dropped whole (counts are cumulative, so the next good
    /// event of that processor loses nothing), except a string that is too long, which is cut.
    package enum Limits {
        /// A real event is a few hundred bytes; a larger message is dropped before decoding.
        package static let bytes = 16 * 1024
        /// processed, failed, retried, dead_lettered and seq: 0...10^12.
        package static let count = 1_000_000_000_000
        /// in_hand: 0...10^6 (a channel's prefetch is at most 65,535).
        package static let inHand = 1_000_000
        /// rate, items per second, and the most a processor can have done per second it ran.
        package static let rate = 1_000_000.0
        /// pod, instance and current: longer strings are cut to this many UTF-8 bytes.
        package static let string = 256
        /// sent_at may differ from the reader's clock by at most a day.
        package static let clockSkew = 86_400.0
        /// A processor runs at most a year (sent_at - started_at).
        package static let run = 366 * 86_400.0
        /// consumer_timeout_ms: 1 ms to a year.
        package static let consumerTimeoutMS = 366 * 86_400_000
        /// Keys in one event's repeat notes (unsettled, copying, redelivered, copies), all lists together.
        package static let keys = 1_000
    }

    /// Screens a raw message: empty, too large, not UTF-8, not JSON, wrong types or missing fields are rejected;
    /// then `screened(wallTime:)`. A version-1 message with `"kind":"load"` is a `LoadEvent`, one with
    /// `"kind":"failure"` a `FailureEvent`; one with another `kind` is rejected; one without `kind`
    /// is a processor's progress event.
    package static func screen(_ bytes: [UInt8], wallTime: Double? = nil) -> ScreenedEvent {
        guard !bytes.isEmpty else { return .rejected("empty message") }
        guard bytes.count <= Limits.bytes else { return .rejected("\(bytes.count) bytes, more than \(Limits.bytes)") }
        // JSON is UTF-8, and a processor's events always are: no repairing of anything else.
        guard String(validating: bytes, as: UTF8.self) != nil else { return .rejected("not UTF-8") }
        let data = Data(bytes)
        struct Kind: Decodable {
            var v: Int
            var kind: String?
        }
        // Only a message that names a "kind" somewhere can have one: a processor's progress event,
        // the most common by far, is decoded once, not twice.
        if Self.mentionsKind(bytes), let header = try? JSONDecoder().decode(Kind.self, from: data), let kind = header.kind {
            guard header.v == version else { return .foreign }
            switch kind {
            case LoadEvent.kind:
                guard let load = try? JSONDecoder().decode(LoadEvent.self, from: data) else {
                    return .rejected("not a version-1 load event (a wrong type or a missing field)")
                }
                return load.screened(wallTime: wallTime)
            case FailureEvent.kind:
                guard let failure = try? JSONDecoder().decode(FailureEvent.self, from: data) else {
                    return .rejected("not a version-1 failure event (a wrong type or a missing field)")
                }
                return failure.screened(wallTime: wallTime)
            default:
                return .rejected("unknown kind of event")
            }
        }
        guard let event = try? JSONDecoder().decode(ProgressEvent.self, from: data) else {
            // A well-formed message of another version is for another reader.
            struct Version: Decodable { var v: Int }
            if let other = try? JSONDecoder().decode(Version.self, from: data), other.v != version { return .foreign }
            return .rejected("not a version-1 progress event (not JSON, a wrong type or a missing field)")
        }
        return event.screened(wallTime: wallTime)
    }

    /// Whether the bytes hold `"kind"` anywhere (then the message may be a load or failure event).
    static func mentionsKind(_ bytes: [UInt8]) -> Bool {
        let needle: [UInt8] = Array("\"kind\"".utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { i in
            bytes[i] == needle[0] && bytes[i + 1] == needle[1] && bytes[i + 2] == needle[2] && bytes[i + 3] == needle[3]
                && bytes[i + 4] == needle[4] && bytes[i + 5] == needle[5]
        }
    }

    /// Checks a decoded event against `Limits`; `wallTime` (Unix seconds), when given, dates it.
    package func screened(wallTime: Double? = nil) -> ScreenedEvent {
        guard v == Self.version else { return .foreign }
        guard !pod.isEmpty, !instance.isEmpty else { return .rejected("no pod or no instance") }
        let counts = [("processed", processed), ("failed", failed), ("retried", retried), ("dead_lettered", deadLettered), ("seq", seq)]
        if let (name, value) = counts.first(where: { !(0...Limits.count).contains($0.1) }) {
            return .rejected("\(name) \(value) out of 0...\(Limits.count)")
        }
        guard (0...Limits.inHand).contains(inHand) else { return .rejected("in_hand \(inHand) out of 0...\(Limits.inHand)") }
        guard rate.isFinite, rate >= 0, rate <= Limits.rate else { return .rejected("rate \(rate) out of 0...\(Limits.rate)") }
        guard startedAt.isFinite, sentAt.isFinite, startedAt > 0, sentAt > 0 else { return .rejected("a time is not a Unix time") }
        let ran = sentAt - startedAt
        // Both times come from the processor's clock; a step back of a minute is forgiven.
        guard ran >= -60, ran <= Limits.run else { return .rejected("sent_at - started_at = \(ran) s") }
        if let wallTime, abs(sentAt - wallTime) > Limits.clockSkew { return .rejected("sent_at \(sentAt) more than a day from now") }
        guard Double(processed) <= Limits.rate * max(60, ran) else { return .rejected("processed \(processed) in \(ran) s") }
        if let runningFor, !(runningFor.isFinite && runningFor >= 0 && runningFor <= max(60, ran + 60)) {
            return .rejected("running_for \(runningFor) s in a run of \(ran) s")
        }
        if let problem = durations?.problem(within: (Limits.count, Limits.run)) { return .rejected(problem) }
        if let consumerTimeoutMS, !(1...Limits.consumerTimeoutMS).contains(consumerTimeoutMS) {
            return .rejected("consumer_timeout_ms \(consumerTimeoutMS) out of 1...\(Limits.consumerTimeoutMS)")
        }
        if let problem = repeatNotesProblem { return .rejected(problem) }
        var event = self
        var cut = false
        event.pod = Self.printable(pod, cut: &cut)
        event.instance = Self.printable(instance, cut: &cut)
        event.current = current.map { Self.printable($0, cut: &cut) }
        return .accepted(event, cut: cut)
    }

    /// Why the repeat notes are impossible: more than `Limits.keys` keys, a key that is not 16
    /// lowercase hex digits, or `omitted` outside 0...`Limits.count`.
    var repeatNotesProblem: String? {
        let lists = [unsettled, copying, redelivered, copies, orphansBack].compactMap { $0 }
        let total = lists.reduce(0) { $0 + $1.count }
        if total > Limits.keys { return "\(total) keys in the repeat notes, more than \(Limits.keys)" }
        if lists.contains(where: { $0.contains { ItemKey.parse($0) == nil } }) { return "a key in the repeat notes is not 16 hex digits" }
        for (name, value) in [("omitted", omitted), ("redelivered_seen", redeliveredSeen), ("copies_seen", copiesSeen), ("orphans_back_seen", orphansBackSeen)] {
            if let value, !(0...Limits.count).contains(value) { return "\(name) \(value) out of 0...\(Limits.count)" }
        }
        if (redelivered?.count ?? 0) > (redeliveredSeen ?? 0) || (copies?.count ?? 0) > (copiesSeen ?? 0)
            || (orphansBack?.count ?? 0) > (orphansBackSeen ?? 0) {
            return "more keys in redelivered, copies or orphans_back than their totals say"
        }
        return nil
    }

    /// `text` with control and bidirectional-override characters as "?" (they would move the
    /// cursor or reorder a terminal line), cut to `Limits.string` UTF-8 bytes (then `cut` is set).
    package static func printable(_ text: String, cut: inout Bool) -> String {
        var out = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            let size = UTF8.width(scalar)
            if bytes + size > Limits.string {
                cut = true
                break
            }
            bytes += size
            out.append(isUnprintable(scalar) ? "?" : scalar)
        }
        return String(out)
    }

    /// C0 and C1 controls, and the marks that reorder text (U+061C, U+200E/F, U+202A-E, U+2066-9).
    static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7F..<0xA0).contains(v) || v == 0x61C || v == 0x200E || v == 0x200F
            || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }
}
