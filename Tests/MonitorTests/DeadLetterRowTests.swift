import Testing

import Core
import Monitor

@Suite("Dead letters read into rows: the processor's headers, missing or odd ones tolerated")
struct DeadLetterRowTests {
    func delivery(_ body: [UInt8], _ headers: [String: HeaderValue]) -> Delivery {
        Delivery(tag: 7, body: body, redelivered: true, headers: headers)
    }

    @Test("a processor's dead letter gives item, reason, exit status, attempts, pod and when")
    func processorHeaders() {
        let row = DeadLetterRow(delivery(Array("photo-17.png".utf8), [
            "x-failure-reason": .string("exit status 3"), "x-exit-status": .int(3), "x-attempts": .int(3),
            "x-failed-by": .string("processor-2"), "x-failed-at": .int(1_795_919_315), "x-last-failure": .string("ignored"),
        ]))
        #expect(row == DeadLetterRow(
            tag: 7, item: "photo-17.png", bytes: 12, reason: "exit status 3", exitStatus: 3, attempts: 3, pod: "processor-2",
            failedAt: 1_795_919_315))
    }

    @Test("an old dead letter without x-failed-at, or a message without any header, has nils, not errors")
    func missingHeaders() {
        let row = DeadLetterRow(delivery([], [:]))
        #expect(row.item == "" && row.bytes == 0)
        #expect(row.reason == nil && row.exitStatus == nil && row.attempts == nil && row.pod == nil && row.failedAt == nil)
    }

    @Test("other tools' types are read where they make sense: numbers in strings, a number as a reason")
    func oddTypes() {
        let row = DeadLetterRow(delivery(Array("x".utf8), [
            "x-failure-reason": .int(42), "x-exit-status": .string("not a number"), "x-attempts": .string("5"),
            "x-failed-by": .int(9), "x-failed-at": .string("1795919315.7"), "x-delivery-count": .int(4),
        ]))
        #expect(row.reason == "42" && row.exitStatus == nil && row.attempts == 5 && row.pod == "9")
        #expect(row.failedAt == 1_795_919_315 && row.deliveries == 4)
        let absurd = DeadLetterRow(delivery([], ["x-failed-at": .string("1e300"), "x-attempts": .int(Int64.max)]))
        #expect(absurd.failedAt == nil && absurd.attempts == Int.max)
    }

    @Test("binary, newlines, escape sequences and a 10 KB item become short printable text")
    func hostileItems() {
        let binary = DeadLetterRow(delivery([0xFF, 0x00, 0x1B, 0x5B, 0x32, 0x4A, 0xC3, 0x28, 0x0A], ["x-failure-reason": .string("bad\n\u{1B}[31mred\u{202E}")]))
        #expect(!binary.item.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(binary.bytes == 9)
        #expect(binary.reason == "bad??[31mred?")
        let huge = DeadLetterRow(delivery(Array(repeating: UInt8(ascii: "a"), count: 10 * 1024), [:]))
        #expect(huge.item.utf8.count == 256 && huge.bytes == 10 * 1024)
        let lines = DeadLetterRow(delivery(Array("first\nsecond\r\n".utf8), [:]))
        #expect(lines.item == "first?second??")
    }
}
