internal import CNCurses

#if canImport(Glibc)
import Glibc
#endif
import Core
import Monitor

/// The full-screen display: the only code that talks to curses. Draws the renderer's lines,
/// decodes keys into `ViewState` changes and restores the terminal on `close()`.
final class TerminalDisplay: MonitorDisplay {
    private var view: ViewState
    private var shown: MonitorSnapshot?
    private var open = true
    private var styles: [TextStyle: Int32] = [:]
    /// The dead-letter view's requests, until the session takes them.
    private var requests: [DeadLetterRequest] = []

    /// Fails with a usage error when curses does not know the terminal type (initscr would
    /// print its own message and exit 1).
    init(color: Bool, environment: [String: String]) throws {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        view = ViewState(unicode: codeset.uppercased() == "UTF-8", color: color)
        // Wait at most 25 ms for the rest of an escape sequence (arrow keys) instead of 1 s.
        if environment["ESCDELAY"] == nil { setenv("ESCDELAY", "25", 1) }
        // curses learns of a resize through SIGWINCH; a parent may have started us with it blocked.
        var winch = sigset_t()
        sigemptyset(&winch)
        sigaddset(&winch, SIGWINCH)
        sigprocmask(SIG_UNBLOCK, &winch, nil)
        guard let screen = newterm(nil, fdopen(STDOUT_FILENO, "w"), fdopen(STDIN_FILENO, "r")) else {
            let term = environment["TERM"].map { "'\($0)'" } ?? "(not set)"
            throw WorkQueueError.usage("the terminal type TERM=\(term) is unknown to curses; set TERM (for example xterm-256color) or use --once or --json")
        }
        set_term(screen)
        cbreak()
        noecho()
        keypad(wq_stdscr(), true)
        nodelay(wq_stdscr(), true)
        curs_set(0)
        setUpStyles(color: color && has_colors())
    }

    var inputDescriptor: Int32? { STDIN_FILENO }

    func show(_ snapshot: MonitorSnapshot, time: Double) {
        if !view.paused || shown == nil { shown = snapshot }
        draw()
    }

    func handleInput(latest: MonitorSnapshot?) -> Bool {
        var changed = false
        while true {
            let code = wgetch(wq_stdscr())
            if code == ERR { break }
            guard let key = code == 27 ? Self.escape() : Self.key(code) else { continue }
            let wasPaused = view.paused
            switch view.handle(key, page: Renderer(width: Int(wq_cols()), height: Int(wq_lines())).page(for: view, showing: shown)) {
            case .quit: return false
            case .redraw: changed = true
            case .nothing: break
            case .deadLetters(let request):
                requests.append(request)
                changed = true
            }
            if wasPaused && !view.paused, let latest { shown = latest }
        }
        if changed { draw() }
        return true
    }

    func takeDeadLetterRequests() -> [DeadLetterRequest] {
        defer { requests = [] }
        return requests
    }

    func showDeadLetters(_ contents: DeadLetterContents) {
        guard view.deadLetters != nil else { return }
        view.deadLetters?.update(contents)
        draw()
    }

    /// Restores the terminal; safe to call twice.
    func close() {
        guard open else { return }
        open = false
        endwin()
    }

    private func draw() {
        guard let shown else { return }
        let renderer = Renderer(width: Int(wq_cols()), height: Int(wq_lines()))
        werase(wq_stdscr())
        for (row, line) in renderer.frame(shown, view: view).enumerated() {
            wmove(wq_stdscr(), Int32(row), 0)
            for span in line.spans {
                wq_set_attributes(styles[span.style] ?? 0)
                waddstr(wq_stdscr(), span.text)
            }
        }
        wq_set_attributes(0)
        wrefresh(wq_stdscr())
    }

    private func setUpStyles(color: Bool) {
        let bold = wq_a_bold(), dim = wq_a_dim(), reverse = wq_a_reverse()
        styles = [.plain: 0, .bold: bold, .dim: dim, .title: reverse | bold, .heading: reverse,
                  .good: 0, .warning: bold, .bad: bold, .accent: 0]
        guard color else { return }
        start_color()
        use_default_colors()
        let pairs: [(TextStyle, Int16, Int16, Int32)] = [
            (.title, Int16(COLOR_BLACK), Int16(COLOR_CYAN), bold),
            (.heading, Int16(COLOR_BLACK), Int16(COLOR_GREEN), 0),
            (.good, Int16(COLOR_GREEN), -1, 0),
            (.warning, Int16(COLOR_YELLOW), -1, bold),
            (.bad, Int16(COLOR_RED), -1, bold),
            (.accent, Int16(COLOR_CYAN), -1, 0),
        ]
        for (index, entry) in pairs.enumerated() {
            init_pair(Int16(index + 1), entry.1, entry.2)
            styles[entry.0] = wq_color_pair(Int32(index + 1)) | entry.3
        }
    }

    /// After an ESC: the Esc key, or a sequence curses did not decode read whole (see `EscapeSequence`).
    private static func escape() -> ViewState.Key? {
        let next = wgetch(wq_stdscr())
        guard next != ERR else { return .character("\u{1B}") }
        guard (0..<128).contains(next), EscapeSequence.starts(UInt8(next)) else {
            ungetch(next)
            return .character("\u{1B}")
        }
        var bytes = [UInt8(next)]
        while bytes.count < EscapeSequence.longest {
            let code = wgetch(wq_stdscr())
            guard code != ERR, (0..<128).contains(code) else { break }
            bytes.append(UInt8(code))
            if bytes.count > 1, EscapeSequence.ends(UInt8(code)) { break }
        }
        return EscapeSequence.key(bytes)
    }

    private static func key(_ code: Int32) -> ViewState.Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_RESIZE: return .resize
        case 0..<128: return .character(Character(Unicode.Scalar(UInt8(code))))
        default: return nil
        }
    }
}
