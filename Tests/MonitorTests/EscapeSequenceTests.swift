import Testing
import Monitor

@Suite("escape sequences curses did not know are keys, or nothing, never a bare Esc")
struct EscapeSequenceTests {
    @Test("tmux's Home and End (ESC [1~, ESC [4~) and their xterm spellings are Home and End; unknown ones are nothing")
    func decodes() {
        #expect(EscapeSequence.key(Array("[1~".utf8)) == .home && EscapeSequence.key(Array("[4~".utf8)) == .end)
        #expect(EscapeSequence.key(Array("OH".utf8)) == .home && EscapeSequence.key(Array("[F".utf8)) == .end)
        #expect(EscapeSequence.key(Array("[5~".utf8)) == .pageUp && EscapeSequence.key(Array("OB".utf8)) == .down)
        #expect(EscapeSequence.key(Array("[15~".utf8)) == nil, "F5: no use, and no Esc either")
        #expect(EscapeSequence.starts(UInt8(ascii: "[")) && EscapeSequence.starts(UInt8(ascii: "O")))
        #expect(!EscapeSequence.starts(UInt8(ascii: "q")), "Esc then q stays two keys")
        #expect(EscapeSequence.ends(UInt8(ascii: "~")) && !EscapeSequence.ends(UInt8(ascii: "1")))
    }
}
