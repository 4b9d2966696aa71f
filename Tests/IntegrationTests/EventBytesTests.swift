import Foundation
import Core
import TestSupport
import Testing

/// What the repeat notes add to the progress events, per item, on a fast drain: measured, and
/// held to a bound.
@Suite("Progress event bytes per item with repeat notes", .serialized)
struct EventBytesTests {
    @Test("one processor drains 10,000 no-op items: the repeat notes add a bounded number of event bytes per item",
        arguments: [100, 10, 1])
    func bytesPerItem(prefetch: Int) throws {
        let s = try Scenario("event-bytes")
        let queue = s.queue
        let count = prefetch == 1 ? 2_500 : 10_000
        let listener = try s.connect()
        defer { listener.close() }
        try listener.declareFanoutExchange(queue + ".progress")
        let events = try listener.declarePrivateQueue(boundTo: queue + ".progress", maxLength: 1_000_000)
        _ = try listener.consume(queue: events, acknowledge: false, exclusive: true)
        try s.load(["--quiet", "--count", String(count)])
        let drain = try s.run("processor", ["--quiet", "--prefetch", String(prefetch)])
        #expect(drain.status == 0, "\(drain.output)")
        var total = 0
        var notes = 0
        var received = 0
        while let event = try listener.nextEvent(timeout: .seconds(1)) {
            guard case .delivery(let delivery) = event, let e = ProgressEvent.decode(delivery.body) else { continue }
            received += 1
            total += delivery.body.count
            var bare = e
            (bare.unsettled, bare.copying, bare.redelivered, bare.copies) = (nil, nil, nil, nil)
            (bare.omitted, bare.redeliveredSeen, bare.copiesSeen) = (nil, nil, nil)
            notes += delivery.body.count - bare.encoded().count
        }
        let perItem = Double(total) / Double(count)
        let notesPerItem = Double(notes) / Double(count)
        print(String(format: "event bytes prefetch %d: %d events, %.1f bytes per item, of which repeat notes %.1f", prefetch, received, perItem, notesPerItem))
        // 19 bytes per key (16 hex digits, quotes, a comma) for each item counted, "unsettled":[]
        // on every event, and at prefetch 1 (one event per item) up to 8 keys whose acks wait for a sync.
        let bound = prefetch == 1 ? 130.0 : 25.0
        #expect(notesPerItem <= bound, "\(notesPerItem) bytes of notes per item")
    }
}
