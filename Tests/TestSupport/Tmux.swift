import Foundation

/// A detached tmux session, read with capture-pane as a person would see it. Each tmux command
/// runs through `Command`, whose output goes to files: a server started from a client with piped
/// output would keep those pipes open for good.
package struct Tmux: Sendable {
    package let session: String

    package init(session: String) { self.session = session }

    /// A session named `label` and a unique suffix.
    package init(unique label: String) { self.init(session: "\(label)-\(UUID().uuidString.prefix(6))") }

    /// What the built tools get to draw with: UTF-8 and a terminal curses knows.
    package static let terminal = ["LANG": "C.UTF-8", "TERM": "xterm-256color"]

    /// Runs the built executable `tool` in the session with exactly `environment` (no other
    /// variable of the test runner's). With `showingExit`, the pane outlives it and shows
    /// `WQTOP-EXIT=` and its exit status.
    package func start(tool: String, _ arguments: [String], environment: [String: String], showingExit: Bool = false) throws {
        let path = Executables.binDirectory.appendingPathComponent(tool).path
        let variables = environment.map { "\($0.key)=\($0.value)" }.sorted()
        if showingExit {
            try start(["env"] + variables + [path] + arguments + [";", "echo", "WQTOP-EXIT=$?;", "sleep", "60"])
        } else {
            try start(["exec", "env"] + variables + [path] + arguments)
        }
    }

    package func start(_ command: [String]) throws {
        let shell = command.map { $0 == ";" || $0.hasSuffix(";") || $0.contains("$?") ? $0 : "'\($0)'" }.joined(separator: " ")
        let result = try run(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", shell])
        guard result.status == 0 else { throw TestFailure("tmux new-session failed (\(result.status)); is tmux installed? \(result.stderr)") }
    }

    package func screen() throws -> String {
        try run(["capture-pane", "-p", "-t", session]).stdout
    }

    package func keys(_ keys: String) throws {
        try run(["send-keys", "-t", session, keys])
    }

    package func resize(width: Int, height: Int) throws {
        try run(["resize-window", "-t", session, "-x", String(width), "-y", String(height)])
    }

    /// Waits until the screen shows `text` (or one of `others`); returns the screen.
    @discardableResult
    package func waitFor(_ text: String, orAnyOf others: [String] = [], timeout: Double) throws -> String {
        var last = ""
        do {
            try waitUntil("the screen to show '\(text)'", timeout: timeout, every: 0.2) {
                last = try screen()
                return last.contains(text) || others.contains(where: last.contains)
            }
        } catch {
            throw TestFailure("the screen never showed '\(text)' within \(timeout) s; it shows:\n\(last)")
        }
        return last
    }

    /// Waits until the program in the pane reads keys one at a time (its terminal has left
    /// canonical mode: curses' cbreak), so keys sent next reach it instead of waiting for a newline.
    package func waitForKeyboard(timeout: Double = 20) throws {
        let tty = try run(["display-message", "-p", "-t", session, "#{pane_tty}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var modes = ""
        do {
            try waitUntil("the program in \(tty) to read keys one at a time", timeout: timeout, every: 0.1) {
                modes = try Command("stty", ["-F", tty, "-a"], timeout: 10).run().stdout
                return modes.contains(" -icanon")
            }
        } catch {
            throw TestFailure("\(error); stty -a: \(modes)")
        }
    }

    /// The pid of the program running in the pane.
    package func panePID() throws -> pid_t {
        let listed = try run(["list-panes", "-t", session, "-F", "#{pane_pid}"]).stdout
        guard let pid = pid_t(listed.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("tmux list-panes gave no pid")
        }
        return pid
    }

    package func kill() {
        _ = try? run(["kill-session", "-t", session])
    }

    @discardableResult
    private func run(_ arguments: [String]) throws -> CommandResult {
        try Command("tmux", arguments, timeout: 30).run()
    }
}
