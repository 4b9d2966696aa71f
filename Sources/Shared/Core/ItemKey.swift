/// A message's identity for the receipt's repeat notes: 64 bits, written as 16 lowercase hex
/// digits in progress events. A copy the processor publishes (a retry, a restamp, an item
/// returned on SIGTERM, a dead letter) carries a fresh random key of its own in `x-copy` and its
/// parent's key in `x-copy-of`; a message without `x-copy` is keyed by its `message_id`, or,
/// without one, by its body (two items with the same body then share a key; see docs/receipt.md
/// for what that costs).
package enum ItemKey {
    /// The copy's own key (16 hex digits), set on every copy the processor publishes.
    package static let copyHeader = "x-copy"
    /// The key of the message a copy was made of.
    package static let copyOfHeader = "x-copy-of"

    /// The key of a delivered message.
    package static func of(_ delivery: Delivery) -> UInt64 {
        if case .string(let text) = delivery.headers[copyHeader], let key = parse(text) { return key }
        if let id = delivery.properties.messageID, !id.isEmpty { return hash(Array("id:\(id)".utf8)) }
        return hash(delivery.body)
    }

    /// The key of the message this delivery is a copy of; nil for a message that is no copy.
    /// Whether the key names this message alone (`x-copy` or `message_id`), not a hash of its body
    /// that equal bodies share.
    package static func isOwn(_ delivery: Delivery) -> Bool {
        if case .string(let text) = delivery.headers[copyHeader], parse(text) != nil { return true }
        return !(delivery.properties.messageID ?? "").isEmpty
    }

    package static func parent(of delivery: Delivery) -> UInt64? {
        guard case .string(let text) = delivery.headers[copyOfHeader] else { return nil }
        return parse(text)
    }

    /// Whether the broker returned this message to the queue at least once (its holder died or
    /// lost its connection): `redelivered`, or a quorum queue's `x-delivery-count` (the processor's
    /// copies drop that header, so it is the broker's word on this very message).
    package static func wasReturned(_ delivery: Delivery) -> Bool {
        delivery.redelivered || delivery.headers[FailurePolicy.deliveryCountHeader] != nil
    }

    /// A fresh random key for a copy.
    package static func random() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return UInt64.random(in: .min ... .max, using: &generator)
    }

    /// FNV-1a, 64 bits: stable across processes and versions (Swift's `Hasher` is seeded per run).
    package static func hash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// 16 lowercase hex digits.
    package static func hex(_ key: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { out[15 - i] = digits[Int((key >> (4 * UInt64(i))) & 0xF)] }
        return String(decoding: out, as: UTF8.self)
    }

    /// Exactly 16 lowercase hex digits, else nil.
    package static func parse(_ text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16 else { return nil }
        var value: UInt64 = 0
        for b in bytes {
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
