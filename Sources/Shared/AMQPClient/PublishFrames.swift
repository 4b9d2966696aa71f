/// The wire bytes of basic.publish messages (AMQP 0-9-1: a method frame, a content header
/// with the delivery mode and, if given, a content type and a message id, body frames of at most
/// `frameMax`), gathered so that publishes leave in one write instead of rabbitmq-c's one `send`
/// per frame.
struct PublishFrames {
    /// The encoded frames; those from `written` on are not written yet.
    private(set) var bytes: [UInt8] = []
    /// Bytes of `bytes` already written (a large item leaves in several writes: the rest is not
    /// moved to the front after each).
    private(set) var written = 0
    /// Messages encoded into `bytes`.
    private(set) var messages = 0
    /// The method frames of the routings in use (channel, exchange, key, mandatory): a load
    /// publishes to one queue, or round-robin to a few shards, so each is encoded once.
    private var methodFrames: [MethodKey: [UInt8]] = [:]

    private struct MethodKey: Hashable {
        var channel: UInt16
        var exchange: String
        var routingKey: String
        var mandatory: Bool
    }

    /// Encoded method frames kept at most (a load uses one per shard, 64 at most).
    private static let keptMethodFrames = 64

    var isEmpty: Bool { written >= bytes.count }

    /// Bytes encoded and not written yet.
    var unwritten: Int { bytes.count - written }

    /// Calls `body` with the bytes not written yet.
    func withUnwrittenBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[written...])) }
    }

    /// Appends one message. `frameMax` is the negotiated frame size (body frames carry
    /// `frameMax - 8` bytes at most). Exchange and routing key are at most 255 bytes (AMQP
    /// short strings), as the broker requires of names anyway.
    mutating func append(
        channel: UInt16, exchange: String, routingKey: String, mandatory: Bool, persistent: Bool,
        body: UnsafeRawBufferPointer, frameMax: Int, messageID: String? = nil, contentType: String? = nil
    ) {
        let key = MethodKey(channel: channel, exchange: exchange, routingKey: routingKey, mandatory: mandatory)
        if let frame = methodFrames[key] {
            bytes.append(contentsOf: frame)
        } else {
            let frame = Self.publishMethodFrame(channel: channel, exchange: exchange, routingKey: routingKey, mandatory: mandatory)
            if methodFrames.count >= Self.keptMethodFrames { methodFrames.removeAll() }
            methodFrames[key] = frame
            bytes.append(contentsOf: frame)
        }
        // Content header: class 60 (basic), weight 0, body size, flags, then the properties in
        // flag order: content-type (bit 15, a short string), delivery-mode (bit 12) and, when
        // given, message-id (bit 7, a short string).
        let type = contentType.map { Array($0.utf8.prefix(255)) }
        let id = messageID.map { Array($0.utf8.prefix(255)) }
        let size = 15 + (type.map { 1 + $0.count } ?? 0) + (id.map { 1 + $0.count } ?? 0)
        Self.frameStart(&bytes, type: 2, channel: channel, size: size)
        Self.append16(&bytes, 60)
        Self.append16(&bytes, 0)
        Self.append64(&bytes, UInt64(body.count))
        Self.append16(&bytes, 0x1000 | (type == nil ? 0 : 0x8000) | (id == nil ? 0 : 0x0080))
        if let type {
            bytes.append(UInt8(type.count))
            bytes.append(contentsOf: type)
        }
        bytes.append(persistent ? 2 : 1)
        if let id {
            bytes.append(UInt8(id.count))
            bytes.append(contentsOf: id)
        }
        bytes.append(Self.frameEnd)
        let chunk = max(frameMax - 8, 1)
        var offset = 0
        while offset < body.count {
            let size = min(chunk, body.count - offset)
            Self.frameStart(&bytes, type: 3, channel: channel, size: size)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[offset..<(offset + size)]))
            bytes.append(Self.frameEnd)
            offset += size
        }
        messages += 1
    }

    /// Forgets the first `count` bytes (written), keeping the rest.
    mutating func consume(_ count: Int) {
        written += count
        if written >= bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= Self.keptCapacity)
            written = 0
            messages = 0
        }
    }

    /// Forgets everything (the connection is gone; the caller publishes again what matters).
    mutating func discard() {
        bytes.removeAll()
        written = 0
        messages = 0
    }

    /// A buffer grown by one big item is not kept beyond this.
    static let keptCapacity = 1 << 20

    static let frameEnd: UInt8 = 0xCE

    static func publishMethodFrame(channel: UInt16, exchange: String, routingKey: String, mandatory: Bool) -> [UInt8] {
        let exchangeBytes = Array(exchange.utf8.prefix(255))
        let keyBytes = Array(routingKey.utf8.prefix(255))
        var frame: [UInt8] = []
        frameStart(&frame, type: 1, channel: channel, size: 4 + 2 + 1 + exchangeBytes.count + 1 + keyBytes.count + 1)
        append16(&frame, 60)  // basic
        append16(&frame, 40)  // publish
        append16(&frame, 0)  // reserved (ticket)
        frame.append(UInt8(exchangeBytes.count))
        frame.append(contentsOf: exchangeBytes)
        frame.append(UInt8(keyBytes.count))
        frame.append(contentsOf: keyBytes)
        frame.append(mandatory ? 1 : 0)  // bits: mandatory, immediate (never)
        frame.append(frameEnd)
        return frame
    }

    private static func frameStart(_ bytes: inout [UInt8], type: UInt8, channel: UInt16, size: Int) {
        bytes.append(type)
        append16(&bytes, channel)
        append32(&bytes, UInt32(size))
    }

    private static func append16(_ bytes: inout [UInt8], _ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    private static func append32(_ bytes: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }

    private static func append64(_ bytes: inout [UInt8], _ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((value >> UInt64(shift)) & 0xFF)) }
    }
}
