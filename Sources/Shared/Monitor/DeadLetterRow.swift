import Core

/// One dead letter as the view shows it: its item made printable and what the processor wrote in
/// its headers. A header that is missing or of an unexpected type (an old dead letter, another
/// tool's message) is nil and shows as "-"; nothing in a message can break the screen.
package struct DeadLetterRow: Sendable, Equatable {
    /// What `r` moves: an id the browser gave this held delivery, never reused (the delivery tag
    /// when the row is read straight from a delivery).
    package var tag: UInt64
    /// The item's first bytes as text, control characters as "?", at most 256 UTF-8 bytes.
    package var item: String
    /// The item's whole size in bytes.
    package var bytes: Int
    package var reason: String?
    package var exitStatus: Int?
    package var attempts: Int?
    package var pod: String?
    /// When it was dead-lettered (`x-failed-at`), Unix seconds.
    package var failedAt: Double?
    /// `x-delivery-count`: how often a quorum queue handed it out and got it back (browsing counts).
    package var deliveries: Int?

    package init(
        tag: UInt64, item: String, bytes: Int, reason: String? = nil, exitStatus: Int? = nil, attempts: Int? = nil,
        pod: String? = nil, failedAt: Double? = nil, deliveries: Int? = nil
    ) {
        self.tag = tag
        self.item = item
        self.bytes = bytes
        self.reason = reason
        self.exitStatus = exitStatus
        self.attempts = attempts
        self.pod = pod
        self.failedAt = failedAt
        self.deliveries = deliveries
    }

    /// Reads a delivery of the dead-letter queue: its body and the headers the processor set.
    package init(_ delivery: Delivery) {
        let headers = delivery.headers
        self.init(
            tag: delivery.tag, item: Self.text(String(decoding: delivery.body.prefix(Self.itemBytes), as: UTF8.self)),
            bytes: delivery.body.count,
            reason: Self.string(headers["x-failure-reason"]),
            exitStatus: Self.number(headers["x-exit-status"]).map { Int(clamping: $0) },
            attempts: Self.number(headers[FailurePolicy.attemptsHeader]).map { Int(clamping: $0) },
            pod: Self.string(headers["x-failed-by"]),
            failedAt: Self.number(headers[FailurePolicy.failedAtHeader]).map(Double.init),
            deliveries: Self.number(headers[FailurePolicy.deliveryCountHeader]).map { Int(clamping: $0) })
    }

    /// Bytes of an item read for its row (the text is cut shorter still).
    static let itemBytes = 1024

    /// Printable text; bytes that are not UTF-8 (decoded as U+FFFD) show as "?" like controls.
    private static func text(_ raw: String) -> String {
        var cut = false
        return String(String.UnicodeScalarView(ProgressEvent.printable(raw, cut: &cut).unicodeScalars.map { $0 == "\u{FFFD}" ? "?" : $0 }))
    }

    /// A header as text: strings made printable, numbers written out.
    static func string(_ value: HeaderValue?) -> String? {
        switch value {
        case .string(let s): text(s)
        case .int(let n): String(n)
        case nil: nil
        }
    }

    /// A header as a number: integers, or a string holding one (another tool's way).
    static func number(_ value: HeaderValue?) -> Int64? {
        switch value {
        case .int(let n): n
        case .string(let s): Int64(s) ?? Double(s).flatMap { $0.isFinite ? Int64(exactly: $0.rounded(.down)) : nil }
        case nil: nil
        }
    }
}
