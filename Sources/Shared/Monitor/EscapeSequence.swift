/// The rest of a key's escape sequence that curses did not know (after ESC, e.g. `[4~`): tmux
/// sends Home and End as `ESC [1~` and `ESC [4~` whatever TERM says, and with TERM=xterm-256color
/// curses then hands them out byte by byte. Read whole, they are keys; without this the ESC alone
/// closed the dead-letter view or the help.
package enum EscapeSequence {
    /// Whether a byte after ESC starts a sequence (CSI `[` or SS3 `O`) rather than being a key of its own.
    package static func starts(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "[") || byte == UInt8(ascii: "O") }

    /// Whether `byte` ends a sequence begun by `starts` (a final byte, `@` to `~`).
    package static func ends(_ byte: UInt8) -> Bool { (0x40...0x7E).contains(byte) }

    /// Bytes read at most after ESC before giving up on a sequence.
    package static let longest = 8

    /// The key a sequence (the bytes after ESC) stands for; nil for one wqtop has no use for.
    package static func key(_ bytes: [UInt8]) -> ViewState.Key? {
        switch String(decoding: bytes, as: UTF8.self) {
        case "[A", "OA": .up
        case "[B", "OB": .down
        case "[1~", "[7~", "[H", "OH": .home
        case "[4~", "[8~", "[F", "OF": .end
        case "[5~": .pageUp
        case "[6~": .pageDown
        default: nil
        }
    }
}
