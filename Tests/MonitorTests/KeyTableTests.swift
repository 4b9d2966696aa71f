import Testing

import Monitor

@Suite("wqtop's key table: the keys handled, the help and the footers cannot drift apart")
struct KeyTableTests {
    /// A view where keys are pressed in `context`, with three dead letters where the view is open.
    func view(in context: KeyContext) -> ViewState {
        var view = ViewState()
        if context == .deadLetters || context == .confirming {
            _ = view.handle("f", page: 10)
            var contents = DeadLetterContents(queue: "jobs.failed", workQueue: "jobs")
            contents.rows = (0..<3).map { DeadLetterRow(tag: UInt64($0 + 1), item: "item-\($0)", bytes: 6) }
            view.deadLetters?.update(contents)
        }
        if context == .confirming { _ = view.handle("R", page: 10) }
        if context == .help { _ = view.handle("?", page: 10) }
        #expect(view.keyContext == context)
        return view
    }

    /// Every key a terminal driver can hand over, but a resize (no key a person presses).
    var everyKey: [ViewState.Key] {
        [.up, .down, .pageUp, .pageDown, .home, .end, "é"] + (0..<128).map { .character(Character(Unicode.Scalar(UInt8($0)))) }
    }

    /// How the help overlay names a key.
    func name(_ key: ViewState.Key) -> String {
        switch key {
        case .up: "↑"
        case .down: "↓"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .resize: "resize"
        case .escape: "Esc"
        case " ": "space"
        case .character(let c): String(c)
        }
    }

    /// The help line that tells of the binding at `index`: its own, or the one above it.
    func helpLine(of index: Int) -> String? {
        for binding in KeyBinding.table[...index].reversed() {
            switch binding.help {
            case .line(let keys, let text): return keys + " " + text
            case .above: continue
            case .onScreen: return nil
            }
        }
        return nil
    }

    @Test("every key in the table does something in every context the table names")
    func tableKeysAreHandled() {
        for binding in KeyBinding.table {
            for context in binding.contexts {
                for key in binding.keys + binding.aliases {
                    var view = view(in: context)
                    #expect(view.handle(key, page: 10) != .nothing, "\(key) in \(context)")
                    #expect(KeyBinding.action(for: key, in: context) == binding.action, "\(key) in \(context) is bound once")
                }
            }
        }
    }

    @Test("every key that does something is in the table and named on its help line (or asked on screen)")
    func handledKeysAreInTheHelp() {
        let help = Renderer(width: 120, height: 40).frame(MonitorSnapshot(queue: "jobs", endpoint: "localhost"), view: view(in: .help)).map(\.text)
        for context in KeyContext.allCases {
            for key in everyKey {
                var view = view(in: context)
                guard view.handle(key, page: 10) != .nothing else { continue }
                guard let index = KeyBinding.table.firstIndex(where: { $0.contexts.contains(context) && ($0.keys + $0.aliases).contains(key) }) else {
                    // The question before moving everything takes any other key as no.
                    #expect(context == .confirming && view.deadLetters?.note?.text == "nothing moved", "\(key) in \(context) is not in the table")
                    continue
                }
                let binding = KeyBinding.table[index]
                guard binding.keys.contains(key) else {
                    #expect(binding.aliases.contains(key) && binding.keys.map(name).contains(name(key).lowercased()), "\(key) twins a named key")
                    continue
                }
                guard let line = helpLine(of: index) else {
                    let question = Renderer(width: 80, height: 24).frame(MonitorSnapshot(queue: "jobs", endpoint: "localhost"), view: self.view(in: context))[2].text
                    #expect(question.hasSuffix("? y/n") && name(key) == "y", "\(key) in \(context) is asked on screen")
                    continue
                }
                let words = line.split { " ,;/:()".contains($0) }.map(String.init)
                #expect(words.contains(name(key)), "\(name(key)) in \(context) is named on its help line: \(line)")
            }
        }
        for line in KeyBinding.helpLines {
            #expect(help.contains(" " + line), "the help overlay shows \(line)")
        }
    }

    @Test("the keys the footers show are bound where they show")
    func footerKeysAreBound() {
        let s = MonitorSnapshot(queue: "jobs", endpoint: "localhost")
        for context in [KeyContext.pods, .deadLetters] {
            let footer = Renderer(width: 120, height: 24).frame(s, view: view(in: context)).last!
            let keys = footer.spans.filter { $0.style == .title }.map { $0.text.dropFirst() }
            #expect(keys.count >= 5)
            for key in keys {
                #expect(KeyBinding.action(for: .character(Character(String(key))), in: context) != nil, "\(key) in \(context)")
            }
        }
    }
}
