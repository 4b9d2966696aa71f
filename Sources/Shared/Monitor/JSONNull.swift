/// An optional value written as JSON `null` when absent (a plain optional would leave the field
/// out), for fields whose absence means something: "no load event", "no dead-letter queue".
package struct JSONNull<Value: Encodable & Sendable & Equatable>: Encodable, Sendable, Equatable {
    package var value: Value?

    package init(value: Value?) {
        self.value = value
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}
