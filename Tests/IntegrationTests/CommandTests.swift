import Foundation
import TestSupport
import Testing

/// The launcher every test uses: no broker needed.
@Suite("The test launcher: output never stalls a command, and a hung one is killed at its timeout")
struct CommandTests {
    @Test("a command writing 1 MiB to stderr, then 1 MiB to stdout, completes with all of both")
    func fullPipesDoNotDeadlock() throws {
        // Reading stdout to its end before stderr (the old ExternalCommand) hung here for good:
        // the child blocked on a full stderr pipe that nobody read.
        let mib = 1 << 20
        let script = "head -c \(mib) /dev/zero | tr '\\0' e >&2; head -c \(mib) /dev/zero | tr '\\0' o"
        let started = Date()
        let result = try Command("/bin/sh", ["-c", script], timeout: 30).run()
        #expect(result.status == 0)
        #expect(result.stderr.utf8.count == mib && result.stderr.allSatisfy { $0 == "e" })
        #expect(result.stdout.utf8.count == mib && result.stdout.allSatisfy { $0 == "o" })
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test("a hung command is killed with its children at its timeout; the failure names it and quotes its output")
    func hungCommandIsKilled() throws {
        let dir = try TempDir()
        let script = #"echo started; echo "about to hang" >&2; sleep 600 & echo $! > "$1/child"; wait"#
        let started = Date()
        let running = try Command("/bin/sh", ["-c", script, "sh", dir.path], timeout: 1).start()
        try waitUntil("the command to start its child") { !lines(dir.path + "/child").isEmpty }
        let error = try #require(throws: TestFailure.self) { try running.wait() }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(error.description.contains("sh -c"), "\(error)")
        #expect(error.description.contains("did not finish within 1 s"), "\(error)")
        #expect(error.description.contains("started") && error.description.contains("about to hang"), "\(error)")
        #expect(!running.isRunning)
        let child = try #require(pid_t(lines(dir.path + "/child").first ?? ""))
        #expect(processGone(child), "the command's background sleep \(child) outlived the timeout")
    }

    @Test("a started command is killed when its handle goes; stdin data and added variables reach it")
    func handleKillsAndInputs() throws {
        var pid: pid_t = 0
        do {
            let running = try Command("/bin/sleep", ["600"]).start()
            pid = running.pid
            #expect(running.isRunning)
        }
        #expect(processGone(pid), "sleep \(pid) outlived its handle")
        let echoed = try Command("/bin/sh", ["-c", #"cat; printf '%s' "$EXTRA""#], adding: ["EXTRA": "-added"], stdin: Data("input".utf8))
            .run()
        #expect(echoed.stdout == "input-added")
        let clean = Executables.command("loader", ["--help"]).environment
        #expect(Set(clean.keys) == ["PATH", "HOME"], "our tools start from a clean environment")
    }
}

/// True when `pid` has ended (gone, or a zombie nobody reaped yet), waiting up to 3 s.
func processGone(_ pid: pid_t) -> Bool {
    (try? waitUntil("process \(pid) to end", timeout: 3) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
    }) != nil
}
