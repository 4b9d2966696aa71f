/// Where a key is pressed: what the screen shows decides what a key does.
package enum KeyContext: Sendable, CaseIterable {
    /// The pods' screen.
    case pods
    /// The help overlay, over the pods' screen or the dead-letter view.
    case help
    /// The dead-letter view.
    case deadLetters
    /// The dead-letter view's question before moving everything: `y`, or any other key for no.
    case confirming
}

/// What a key does; `ViewState` and `DeadLetterView` carry it out.
package enum KeyAction: Sendable, Equatable {
    case quit, toggleHelp, closeHelp, cycleSort, togglePause
    /// Scroll the pods, or move the dead-letter view's selection.
    case move(Movement)
    case openDeadLetters, closeDeadLetters, browseAgain, requeueSelected, askRequeueAll, confirmRequeueAll
}

/// Where a movement key takes a position (a scroll offset, a selection).
package enum Movement: Sendable, Equatable {
    case lineUp, lineDown, pageUp, pageDown, first, last

    /// The new position, with `page` rows on screen and `last` the last position.
    func apply(_ position: Int, page: Int, last: Int) -> Int {
        switch self {
        case .lineUp: position - 1
        case .lineDown: position + 1
        case .pageUp: position - page
        case .pageDown: position + page
        case .first: 0
        case .last: last
        }
    }
}

/// How the help overlay tells of a binding.
package enum KeyHelp: Sendable, Equatable {
    /// A line of its own: the keys as shown, and what they do.
    case line(keys: String, text: String)
    /// Told on the help line of the binding above it in the table.
    case above
    /// Asked on screen where it applies (the question's "y/n").
    case onScreen
}

/// One row of wqtop's key table (htop's `Action.c`): the keys, where they work, what they do and
/// what the help says. The key handlers dispatch from this table and the help overlay is drawn
/// from it, so the two cannot drift apart.
package struct KeyBinding: Sendable {
    package var keys: [ViewState.Key]
    /// Upper-case twins of `keys` that do the same and that the help does not name (Q for q).
    package var aliases: [ViewState.Key] = []
    package var contexts: Set<KeyContext>
    package var action: KeyAction
    package var help: KeyHelp

    /// Every key wqtop handles, in the order of the help overlay.
    package static let table: [KeyBinding] = {
        let screens: Set<KeyContext> = [.pods, .help]
        let anywhere: Set<KeyContext> = [.pods, .help, .deadLetters]
        let scroll = "scroll one pod; PgUp PgDn a page; Home g / End G first / last"
        return [
            KeyBinding(keys: ["q"], aliases: ["Q"], contexts: anywhere, action: .quit, help: .line(keys: "q", text: "quit (the terminal is restored)")),
            // The help opens over the dead-letter view too, and over its question (which stays).
            KeyBinding(
                keys: ["?", "h"], contexts: anywhere.union([.confirming]), action: .toggleHelp,
                help: .line(keys: "? h Esc", text: "show or hide this help")),
            KeyBinding(keys: [.escape], contexts: [.help], action: .closeHelp, help: .above),
            KeyBinding(
                keys: ["s"], contexts: screens, action: .cycleSort,
                help: .line(keys: "s", text: "cycle the sort: pod, processed, rate, state (lost first), last seen")),
            KeyBinding(
                keys: ["p", " "], contexts: screens, action: .togglePause, help: .line(keys: "p space", text: "pause the screen; sampling goes on")),
            KeyBinding(keys: [.up, "k"], contexts: anywhere, action: .move(.lineUp), help: .line(keys: "↑ ↓ j k", text: scroll)),
            KeyBinding(keys: [.down, "j"], contexts: anywhere, action: .move(.lineDown), help: .above),
            KeyBinding(keys: [.pageUp], contexts: anywhere, action: .move(.pageUp), help: .above),
            KeyBinding(keys: [.pageDown], contexts: anywhere, action: .move(.pageDown), help: .above),
            KeyBinding(keys: [.home, "g"], contexts: anywhere, action: .move(.first), help: .above),
            KeyBinding(keys: [.end, "G"], contexts: anywhere, action: .move(.last), help: .above),
            KeyBinding(
                keys: ["f"], contexts: screens, action: .openDeadLetters,
                help: .line(keys: "f", text: "dead letters (QUEUE.failed): browse them; f or Esc closes")),
            KeyBinding(keys: ["f", .escape], contexts: [.deadLetters], action: .closeDeadLetters, help: .above),
            KeyBinding(
                keys: ["r"], contexts: [.deadLetters], action: .requeueSelected,
                help: .line(keys: "", text: "there: r requeue the selected, R requeue all (asks), u refresh")),
            KeyBinding(keys: ["R"], contexts: [.deadLetters], action: .askRequeueAll, help: .above),
            KeyBinding(keys: ["u"], contexts: [.deadLetters], action: .browseAgain, help: .above),
            KeyBinding(keys: ["y"], aliases: ["Y"], contexts: [.confirming], action: .confirmRequeueAll, help: .onScreen),
        ]
    }()

    /// What `key` does in `context`; nil when nothing.
    package static func action(for key: ViewState.Key, in context: KeyContext) -> KeyAction? {
        table.first { $0.contexts.contains(context) && ($0.keys.contains(key) || $0.aliases.contains(key)) }?.action
    }

    /// The keys part of the help overlay: one line per binding with a line of its own.
    package static var helpLines: [String] {
        table.compactMap { binding in
            guard case .line(let keys, let text) = binding.help else { return nil }
            return "  " + TextWidth.pad(keys, to: 11) + text
        }
    }
}

extension ViewState.Key: ExpressibleByExtendedGraphemeClusterLiteral {
    /// A character key written as a literal: `"q"`.
    package init(extendedGraphemeClusterLiteral value: Character) {
        self = .character(value)
    }

    /// The Escape key (a lone ESC byte).
    package static let escape = ViewState.Key.character("\u{1B}")
}
