/// How the user has arranged the screen: sort, scroll, help, pause. Key handlers change this
/// value and say what must happen next; they never draw.
package struct ViewState: Sendable, Equatable {
    /// The pod table's order, cycled by `s`.
    package enum Sort: String, Sendable, CaseIterable {
        case pod, processed, rate, state, lastSeen = "last seen"
    }

    package var sort: Sort = .pod
    /// The first pod row shown.
    package var scroll = 0
    package var showHelp = false
    package var paused = false
    /// Block characters for graphs; ASCII when the terminal is not UTF-8.
    package var unicode = true
    package var color = true
    /// The dead-letter view (key `f`) while it is open.
    package var deadLetters: DeadLetterView?

    package init(unicode: Bool = true, color: Bool = true) {
        self.unicode = unicode
        self.color = color
    }

    /// A key, decoded by the terminal driver.
    package enum Key: Sendable, Equatable {
        case character(Character)
        case up, down, pageUp, pageDown, home, end, resize
    }

    /// What the loop must do after a key.
    package enum Next: Sendable, Equatable {
        case redraw, quit, nothing
        /// Redraw, and the dead-letter browser has this to do.
        case deadLetters(DeadLetterRequest)
    }

    /// Applies a key; `page` is the number of pod rows on screen.
    package mutating func handle(_ key: Key, page: Int) -> Next {
        let page = max(1, page)
        if var open = deadLetters, !showHelp, key != .character("?"), key != .character("h") {
            let next = open.handle(key, page: page)
            deadLetters = next == .deadLetters(.close) ? nil : open
            return next
        }
        if let moved = key.move(scroll, page: page, last: Int.max / 2) {
            scroll = max(0, moved)
            return .redraw
        }
        switch key {
        case .character("q"), .character("Q"):
            return .quit
        case .character("f"):
            deadLetters = DeadLetterView()
            showHelp = false
            return .deadLetters(.browse)
        case .character("?"), .character("h"):
            showHelp.toggle()
        case .character("s"):
            let all = Sort.allCases
            sort = all[(all.firstIndex(of: sort)! + 1) % all.count]
        case .character("p"), .character(" "):
            paused.toggle()
        case .character("\u{1B}") where showHelp:
            showHelp = false
        case .resize: break
        default: return .nothing
        }
        scroll = max(0, scroll)
        return .redraw
    }

    /// Pods in the chosen order.
    package func sorted(_ pods: [PodRow]) -> [PodRow] {
        switch sort {
        case .pod: return pods.sorted { Self.naturalLess($0, $1) }
        case .processed: return pods.sorted { $0.processed != $1.processed ? $0.processed > $1.processed : Self.naturalLess($0, $1) }
        case .rate: return pods.sorted { $0.rate != $1.rate ? $0.rate > $1.rate : Self.naturalLess($0, $1) }
        case .state: return pods.sorted { Self.rank($0) != Self.rank($1) ? Self.rank($0) < Self.rank($1) : Self.naturalLess($0, $1) }
        case .lastSeen: return pods.sorted { $0.lastSeen != $1.lastSeen ? $0.lastSeen > $1.lastSeen : Self.naturalLess($0, $1) }
        }
    }

    /// Pod names in natural order: processor-2 before processor-10.
    static func naturalLess(_ a: PodRow, _ b: PodRow) -> Bool {
        let x = chunks(a.pod), y = chunks(b.pod)
        for (p, q) in zip(x, y) where p != q {
            if let m = Int(p), let n = Int(q) { return m < n }
            return p < q
        }
        return x.count != y.count ? x.count < y.count : a.instance < b.instance
    }

    private static func chunks(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var digits = false
        for c in text {
            if c.isASCII && c.isNumber != digits && !current.isEmpty {
                out.append(current)
                current = ""
            }
            digits = c.isASCII && c.isNumber
            current.append(c)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Lost first, then working, then the rest: what needs eyes comes to the top.
    private static func rank(_ pod: PodRow) -> Int {
        if pod.lost { return 0 }
        switch pod.state {
        case .working: return 1
        case .stopping: return 2
        case .starting: return 3
        case .idle, .waitingForOthers: return 4
        case .finished: return pod.exitCode == 0 ? 6 : 5
        }
    }
}

extension ViewState.Key {
    /// Where a movement key (arrows and j/k, PgUp/PgDn, Home/g, End/G) takes a position (a
    /// scroll offset, a selection) with `page` rows on screen; nil for other keys.
    func move(_ position: Int, page: Int, last: Int) -> Int? {
        switch self {
        case .up, .character("k"): position - 1
        case .down, .character("j"): position + 1
        case .pageUp: position - page
        case .pageDown: position + page
        case .home, .character("g"): 0
        case .end, .character("G"): last
        default: nil
        }
    }
}
