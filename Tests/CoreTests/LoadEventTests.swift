import FoundationEssentials
import Testing

import Core

/// A load event as a loader sends it, sent 10 s after its start.
private func load(_ id: String = "run-1", confirmed: Int = 300, total: Int? = 300, queue: String = "jobs") -> LoadEvent {
    LoadEvent(queue: queue, load: id, confirmed: confirmed, total: total, final: true, startedAt: 1_000_000, sentAt: 1_000_010)
}

private func screen(_ json: String) -> ScreenedEvent { ProgressEvent.screen(Array(json.utf8), wallTime: 1_000_010) }

@Suite("Load events: the versioned JSON the loader publishes next to the processors' events")
struct LoadEventTests {
    @Test("a load event encodes with v 1, kind load and snake_case fields, and screens back as a load")
    func roundTrip() {
        let text = String(decoding: load().encoded(), as: UTF8.self)
        for key in [#""v":1"#, #""kind":"load""#, #""queue":"jobs""#, #""load":"run-1""#, #""confirmed":300"#, #""total":300"#,
                    #""final":true"#, #""started_at":"#, #""sent_at":"#] {
            #expect(text.contains(key), "\(text)")
        }
        #expect(ProgressEvent.screen(load().encoded(), wallTime: 1_000_010) == .load(load(), cut: false))
        #expect(screen(#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":5,"final":false,"started_at":1000000,"sent_at":1000001}"#)
            == .load(LoadEvent(queue: "jobs", load: "x", confirmed: 5, startedAt: 1_000_000, sentAt: 1_000_001), cut: false),
            "total is optional (a --file load does not know it)")
    }

    @Test("processor events without a kind decode as before; a load event is no processor event")
    func kindsStayApart() {
        let processor = ProgressEvent(queue: "jobs", pod: "p", instance: "i", state: .working, processed: 3, startedAt: 1_000_000, sentAt: 1_000_010)
        guard case .accepted(let decoded, cut: false) = ProgressEvent.screen(processor.encoded(), wallTime: 1_000_010) else {
            Issue.record("a processor event is still accepted")
            return
        }
        #expect(decoded == processor)
        #expect(ProgressEvent.decode(load().encoded()) == nil)
    }

    @Test("hostile load events are rejected; another version is foreign; an unknown kind is rejected", arguments: [
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":-1,"final":true,"started_at":1000000,"sent_at":1000010}"#, "negative"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":1000000000001,"final":true,"started_at":1000000,"sent_at":1000010}"#, "absurd"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":10,"total":5,"final":true,"started_at":1000000,"sent_at":1000010}"#, "over total"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":10,"total":-5,"final":true,"started_at":1000000,"sent_at":1000010}"#, "negative total"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"","confirmed":1,"final":true,"started_at":1000000,"sent_at":1000010}"#, "no id"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":"many","final":true,"started_at":1000000,"sent_at":1000010}"#, "wrong type"),
        (#"{"v":1,"kind":"load","queue":"jobs","confirmed":1,"final":true,"started_at":1000000,"sent_at":1000010}"#, "missing id"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":1,"final":true,"started_at":0,"sent_at":1000010}"#, "no start"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":1,"final":true,"started_at":9000000,"sent_at":9000010}"#, "far future"),
        (#"{"v":1,"kind":"load","queue":"jobs","load":"x","confirmed":900000000000,"final":true,"started_at":1000000,"sent_at":1000010}"#, "too fast"),
        (#"{"v":1,"kind":"unload","queue":"jobs"}"#, "unknown kind"),
    ])
    func hostile(_ json: String, _ why: String) {
        guard case .rejected = screen(json) else {
            Issue.record("\(why): \(screen(json))")
            return
        }
    }

    @Test("a load event of another version is for another reader")
    func otherVersion() {
        #expect(screen(#"{"v":2,"kind":"load","queue":"jobs","load":"x"}"#) == .foreign)
        var future = load()
        future.v = 2
        #expect(future.screened() == .foreign)
    }

    @Test("a load id with control characters is made printable; a long one is cut and says so")
    func printableID() {
        #expect(load("a\u{1B}[2Jb").screened(wallTime: 1_000_010) == .load(load("a?[2Jb"), cut: false))
        guard case .load(let cut, cut: true) = load(String(repeating: "x", count: 1000)).screened() else {
            Issue.record("a long id is cut")
            return
        }
        #expect(cut.load.utf8.count == ProgressEvent.Limits.string)
    }
}
