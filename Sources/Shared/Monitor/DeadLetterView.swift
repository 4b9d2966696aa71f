/// What the dead-letter view asks of the browser, which owns the broker connection.
package enum DeadLetterRequest: Sendable, Equatable {
    /// Open or refresh: give back what is held and take a fresh look.
    case browse
    /// Move the held item of the row with this tag (`DeadLetterRow.tag`) back to the work queue (`r`).
    case move(tag: UInt64)
    /// Give back everything held, then move the whole queue back (`R`, then `y`).
    case moveAll
    /// The view closed: give back everything held.
    case close
}

/// A line that says how the last request went.
package struct DeadLetterNote: Sendable, Equatable {
    package var text: String
    package var isError: Bool

    package init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}

/// What the browser holds after a request: the rows, how many more wait, and what happened.
package struct DeadLetterContents: Sendable, Equatable {
    /// The dead-letter queue and the work queue moves go to.
    package var queue: String
    package var workQueue: String
    package var rows: [DeadLetterRow] = []
    /// Items in the dead-letter queue beyond those held (over the browse limit, or new since).
    package var waiting = 0
    /// False when the dead-letter queue does not exist.
    package var exists = true
    /// How many the browser holds at most.
    package var limit = 0
    /// Items held with their body cut short (beyond the browser's byte budget): `r` cannot move them.
    package var cutItems = 0
    package var note: DeadLetterNote?
    /// Wall-clock time of the browse (Unix seconds): the rows' ages count from it.
    package var browsedAt = 0.0

    package init(queue: String, workQueue: String) {
        self.queue = queue
        self.workQueue = workQueue
    }

    /// Every item of the dead-letter queue: held and waiting.
    package var total: Int { rows.count + waiting }
}

/// The dead-letter view (key `f`): what the browser holds, the selection, the question before
/// moving everything and the last outcome. Keys change this value and say what the browser must
/// do; it never talks to the broker itself.
package struct DeadLetterView: Sendable, Equatable {
    /// Nil until the first browse answered.
    package var contents: DeadLetterContents?
    /// The selected row's index.
    package var selected = 0
    /// `R` asked "move all N back?"; the next key answers.
    package var confirmingMoveAll = false
    /// The last outcome, or what is being done.
    package var note: DeadLetterNote?

    package init(contents: DeadLetterContents? = nil) {
        self.contents = contents
    }

    package var rows: [DeadLetterRow] { contents?.rows ?? [] }

    /// Takes the browser's answer; the selection stays at its place (after a move: the next row).
    package mutating func update(_ new: DeadLetterContents) {
        contents = new
        note = new.note
        selected = max(0, min(selected, new.rows.count - 1))
    }

    /// Carries out a key's action (see `KeyBinding.table`); `page` is the number of rows on screen.
    mutating func perform(_ action: KeyAction, page: Int) -> ViewState.Next {
        switch action {
        case .move(let movement):
            selected = max(0, min(movement.apply(selected, page: page, last: rows.count - 1), rows.count - 1))
            return .redraw
        case .closeDeadLetters:
            return .deadLetters(.close)
        case .browseAgain:
            note = DeadLetterNote("browsing again...")
            return .deadLetters(.browse)
        case .requeueSelected:
            guard rows.indices.contains(selected) else { return .nothing }
            note = DeadLetterNote("moving 1 item back...")
            return .deadLetters(.move(tag: rows[selected].tag))
        case .askRequeueAll:
            guard let contents, contents.total > 0 else { return .nothing }
            confirmingMoveAll = true
            return .redraw
        case .confirmRequeueAll:
            guard let contents else {
                decline()
                return .redraw
            }
            confirmingMoveAll = false
            note = DeadLetterNote("moving all \(NumberFormat.count(contents.total)) back to \(contents.workQueue)...")
            return .deadLetters(.moveAll)
        case .quit, .toggleHelp, .closeHelp, .cycleSort, .togglePause, .openDeadLetters:
            return .nothing
        }
    }

    /// The question before moving everything was answered no.
    mutating func decline() {
        confirmingMoveAll = false
        note = DeadLetterNote("nothing moved")
    }
}
