/// How a run of text is drawn; the terminal driver maps these to colours and attributes.
package enum TextStyle: Sendable, Equatable {
    case plain, bold, dim, title, heading, good, warning, bad, accent
}

/// A run of text in one style.
package struct Span: Sendable, Equatable {
    package var text: String
    package var style: TextStyle

    package init(_ text: String, _ style: TextStyle = .plain) {
        self.text = text
        self.style = style
    }
}

/// One screen line: spans whose display width adds up to at most the screen width.
package struct StyledLine: Sendable, Equatable {
    package var spans: [Span]

    package init(_ spans: [Span] = []) {
        self.spans = spans
    }

    package var text: String { spans.map(\.text).joined() }
    package var width: Int { spans.reduce(0) { $0 + TextWidth.of($1.text) } }

    /// Appends a span, cut so the line never exceeds `limit` columns.
    package mutating func append(_ text: String, _ style: TextStyle = .plain, limit: Int) {
        let room = limit - width
        guard room > 0, !text.isEmpty else { return }
        spans.append(Span(TextWidth.truncate(text, to: room), style))
    }
}

/// Terminal column widths of text (wide East Asian characters and emoji take two, combining
/// marks none) and cutting or padding to a width. Control characters are shown as `?`.
package enum TextWidth {
    package static func of(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + of($1) }
    }

    static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if isControl(scalar) { return 1 }  // replaced by "?" in clean()
        // Printable ASCII, most of what a frame holds: one column, without a Unicode table lookup.
        if v < 0x7F { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v) || (0x1F900...0x1F9FF).contains(v)
            || (0x20000...0x3FFFD).contains(v)
        {
            return 2
        }
        return 1
    }

    /// C0 and C1 control characters, which would move the cursor or change colours.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
    }

    /// Replaces control characters so text cannot move the cursor.
    package static func clean(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            out.append(isControl(s) ? "?" : s)
        }
        return String(out)
    }

    /// Cuts `text` to at most `width` columns, ending in "…" when cut.
    package static func truncate(_ text: String, to width: Int) -> String {
        let text = clean(text)
        guard width > 0 else { return "" }
        guard of(text) > width else { return text }
        var out = String.UnicodeScalarView()
        var used = 0
        for s in text.unicodeScalars {
            let w = of(s)
            if used + w > width - 1 { break }
            out.append(s)
            used += w
        }
        return String(out) + "…"
    }

    /// `text` for a terminal that is not UTF-8: "…" becomes "~", anything else beyond ASCII one
    /// "?" per column it took, so columns stay aligned.
    package static func ascii(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy(\.isASCII) else { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.isASCII {
                out.append(s)
            } else if s == "…" {
                out.append("~")
            } else {
                out.append(contentsOf: String(repeating: "?", count: of(s)).unicodeScalars)
            }
        }
        return String(out)
    }

    /// `text` cut or padded with spaces to exactly `width` columns.
    package static func pad(_ text: String, to width: Int, right: Bool = false) -> String {
        let cut = truncate(text, to: width)
        let fill = String(repeating: " ", count: max(0, width - of(cut)))
        return right ? fill + cut : cut + fill
    }
}
