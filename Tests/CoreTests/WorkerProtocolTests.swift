import Foundation
import Testing

@testable import Core

@Suite("The --stdio protocol and reconnect backoff as pure logic")
struct WorkerProtocolTests {
    @Test("answers: ok, fail, fail with a reason; a trailing CR is ignored; anything else is a protocol error")
    func replies() {
        #expect(StdioReply(line: Array("ok".utf8)) == .ok)
        #expect(StdioReply(line: Array("ok\r".utf8)) == .ok)
        #expect(StdioReply(line: Array("fail".utf8)) == .fail("the worker answered fail"))
        #expect(StdioReply(line: Array("fail:  disk full \t".utf8)) == .fail("the worker answered: disk full"))
        #expect(StdioReply(line: Array("fail:".utf8)) == .fail("the worker answered fail"))
        #expect(StdioReply(line: Array("OK".utf8)) == .protocolError("OK"))
        #expect(StdioReply(line: Array(" ok".utf8)) == .protocolError(" ok"))
        #expect(StdioReply(line: Array("failed".utf8)) == .protocolError("failed"))
        #expect(StdioReply(line: []) == .protocolError(""))
    }

    @Test("the json format writes a JSON string any JSON parser reads back to the same text")
    func jsonStrings() throws {
        let samples = ["plain", "a \"quoted\" \\ back\\slash", "two\nlines\r\n\ttab", "\u{0}\u{1}\u{1F}\u{7F}", "übergrößen 日本 🎉", ""]
        for text in samples {
            guard case .success(let line) = StdioFormat.json.line(for: Array(text.utf8)) else {
                Issue.record("\(text.debugDescription) was refused")
                continue
            }
            #expect(line.last == 0x0A)
            #expect(!line.dropLast().contains(0x0A), "one line only")
            let decoded = try JSONDecoder().decode(String.self, from: Data(line.dropLast()))
            #expect(decoded == text)
        }
        #expect(StdioFormat.jsonString("\u{1}") == Array("\"\\u0001\"".utf8))
    }

    @Test("the lines format refuses a newline; the json format refuses bytes that are not UTF-8")
    func refusals() {
        #expect(StdioFormat.lines.line(for: Array("a b".utf8)) == .success(Array("a b\n".utf8)))
        guard case .failure(let newline) = StdioFormat.lines.line(for: Array("a\nb".utf8)) else {
            Issue.record("a newline was accepted")
            return
        }
        #expect(newline.reason.contains("--stdio-format json"))
        guard case .failure(let binary) = StdioFormat.json.line(for: [0xFF, 0xFE]) else {
            Issue.record("invalid UTF-8 was accepted")
            return
        }
        #expect(binary.reason.contains("not valid UTF-8"))
    }

    @Test("reconnect backoff: 0.5 s doubling to 10 s, never past the limit, then nil")
    func backoff() {
        var b = Backoff(limit: .seconds(30), now: at(0))
        let delays = (0..<7).map { _ in b.nextDelay(now: at(0)) }
        #expect(delays == [0.5, 1, 2, 4, 8, 10, 10].map { .seconds($0) })
        #expect(b.attempt == 7)
        var short = Backoff(limit: .seconds(3), now: at(100))
        #expect(short.nextDelay(now: at(100)) == .milliseconds(500))
        #expect(short.nextDelay(now: at(102.5)) == .milliseconds(500), "the last delay is cut to what is left")
        #expect(short.nextDelay(now: at(103)) == nil)
    }
}
