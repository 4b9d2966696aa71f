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

    /// Where keys are pressed now: the help overlay, the dead-letter view (or its question), or the pods.
    package var keyContext: KeyContext {
        if showHelp { return .help }
        guard let deadLetters else { return .pods }
        return deadLetters.confirmingMoveAll ? .confirming : .deadLetters
    }

    /// Applies a key as the key table (`KeyBinding.table`) says; `page` is the number of rows on screen.
    package mutating func handle(_ key: Key, page: Int) -> Next {
        // A resize (a tmux pane or window changed) redraws, and is no answer to the question.
        if key == .resize { return .redraw }
        let context = keyContext
        guard let action = KeyBinding.action(for: key, in: context) else {
            // Any key but `y` answers the question before moving everything: no.
            guard context == .confirming else { return .nothing }
            deadLetters?.decline()
            return .redraw
        }
        return perform(action, page: max(1, page))
    }

    private mutating func perform(_ action: KeyAction, page: Int) -> Next {
        switch action {
        case .quit:
            return .quit
        case .toggleHelp:
            showHelp.toggle()
        case .closeHelp:
            showHelp = false
        case .cycleSort:
            let all = Sort.allCases
            sort = all[(all.firstIndex(of: sort)! + 1) % all.count]
        case .togglePause:
            paused.toggle()
        case .openDeadLetters:
            deadLetters = DeadLetterView()
            showHelp = false
            return .deadLetters(.browse)
        case .move(let movement) where deadLetters == nil || showHelp:
            scroll = max(0, movement.apply(scroll, page: page, last: Int.max / 2))
        case .move, .closeDeadLetters, .browseAgain, .requeueSelected, .askRequeueAll, .confirmRequeueAll:
            guard var open = deadLetters else { return .nothing }
            let next = open.perform(action, page: page)
            deadLetters = next == .deadLetters(.close) ? nil : open
            return next
        }
        return .redraw
    }

    /// Pods in the chosen order. Each pod's name is split into its natural-order chunks once,
    /// not at every comparison (a frame sorts every pod).
    package func sorted(_ pods: [PodRow]) -> [PodRow] {
        let keys = pods.map { NaturalKey(chunks: Self.chunks($0.pod), instance: $0.instance) }
        let naturalLess: (Int, Int) -> Bool = { keys[$0] < keys[$1] }
        let order: [Int]
        let all = Array(pods.indices)
        switch sort {
        case .pod: order = all.sorted(by: naturalLess)
        case .processed: order = all.sorted { pods[$0].processed != pods[$1].processed ? pods[$0].processed > pods[$1].processed : naturalLess($0, $1) }
        case .rate: order = all.sorted { pods[$0].rate != pods[$1].rate ? pods[$0].rate > pods[$1].rate : naturalLess($0, $1) }
        case .state: order = all.sorted { Self.rank(pods[$0]) != Self.rank(pods[$1]) ? Self.rank(pods[$0]) < Self.rank(pods[$1]) : naturalLess($0, $1) }
        case .lastSeen: order = all.sorted { pods[$0].lastSeen != pods[$1].lastSeen ? pods[$0].lastSeen > pods[$1].lastSeen : naturalLess($0, $1) }
        }
        return order.map { pods[$0] }
    }

    /// A pod name in natural order: processor-2 before processor-10; the instance breaks ties.
    private struct NaturalKey: Comparable {
        var chunks: [String]
        var instance: String

        static func < (a: NaturalKey, b: NaturalKey) -> Bool {
            for (p, q) in zip(a.chunks, b.chunks) where p != q {
                if let m = Int(p), let n = Int(q) { return m < n }
                return p < q
            }
            return a.chunks.count != b.chunks.count ? a.chunks.count < b.chunks.count : a.instance < b.instance
        }
    }

    private static func chunks(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var digits = false
        for c in text {
            let isDigit = c.asciiValue.map { (0x30...0x39).contains($0) } ?? false
            if isDigit != digits && !current.isEmpty {
                out.append(current)
                current = ""
            }
            digits = isDigit
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
