import Testing
import Glibc
import Core
import Platform
import ProcessRunner
import Drain

/// `--spawn-ahead` through the processor's loop, against the in-memory broker: each slot's next
/// command starts before its item; the item reaches it on stdin only; a command started ahead that
/// never gets an item is killed before it could read an empty one.
extension ProcessorScenarioTests {
    /// The lines a scenario's commands appended to `path`.
    func lines(of path: String) -> [String] {
        String(decoding: FileBytes.read(path: path) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func spawnAheadStartsTheNextCommandWhileOneWorksAndEachReadsExactlyItsItemOnStdin() throws {
        let items = ["a", "b", "c", "d", "e", "f", "g", "h"]
        let broker = InMemoryBroker(queue: queue, items: items)
        let clock = TestLoopClock()
        let log = "/tmp/wq-scenario-\(getpid())-ahead"
        let failedOnce = log + "-c-failed"
        unlink(log)
        unlink(failedOnce)
        defer {
            unlink(log)
            unlink(failedOnce)
        }
        // Each says when its shell is up (before its item exists), then works on what stdin holds;
        // c fails its first attempt, so a retry goes through a command started ahead too.
        let command = """
            echo "up $$" >> \(log); item=$(cat); echo "start $$ [$item] ${WORK_ITEM-unset}" >> \(log); sleep 0.1; echo "end $$" >> \(log)
            if [ "$item" = c ] && [ ! -e \(failedOnce) ]; then : > \(failedOnce); exit 3; fi
            """
        let processor = try processor(broker, clock, command: command) {
            $0.prefetch = 10
            $0.spawnAhead = true
        }
        let code = try processor.run()
        #expect(code == 0)
        let lines = lines(of: log)
        let starts = lines.filter { $0.hasPrefix("start ") }
        // Every item once, c twice, on stdin only; no command ran on an empty item.
        #expect(starts.map { $0.split(separator: " ")[2] }.sorted() == (items + ["c"]).map { "[\($0)]" }.sorted(), "\(lines)")
        #expect(starts.allSatisfy { $0.hasSuffix(" unset") }, "\(starts)")
        // One slot: every start is followed by its own end before the next start.
        let work = lines.filter { !$0.hasPrefix("up ") }
        for pair in stride(from: 0, to: work.count - 1, by: 2) {
            let pid = work[pair].split(separator: " ")[1]
            #expect(work[pair].hasPrefix("start ") && work[pair + 1] == "end \(pid)", "\(lines)")
        }
        // Started ahead: most commands were up before the command of the item before theirs ended.
        let index = { (line: String) in lines.firstIndex(of: line) ?? Int.max }
        let pids = starts.map { String($0.split(separator: " ")[1]) }
        var upEarly = 0
        for k in pids.indices.dropFirst() where index("up \(pids[k])") < index("end \(pids[k - 1])") { upEarly += 1 }
        #expect(upEarly >= items.count / 2, "\(lines)")
        // The command started ahead for no item was killed and reaped on the way out.
        for line in lines where line.hasPrefix("up ") {
            let pid = try #require(Int32(line.dropFirst(3)))
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "\(line) is still there")
        }
        #expect(Set(strings(broker.acknowledged)) == Set(items))
        #expect(broker.ready(queue).isEmpty && broker.ready(queue + ".failed").isEmpty)
        #expect(processor.stats.processed == items.count && processor.stats.retried == 1)
    }

    @Test func spawnAheadSigtermMidItemKillsTheWaitingCommandBeforeItCouldReadAnEmptyItem() throws {
        let broker = InMemoryBroker(queue: queue, items: ["a", "b"])
        let clock = TestLoopClock()
        let log = "/tmp/wq-scenario-\(getpid())-ahead-stop"
        unlink(log)
        defer { unlink(log) }
        // SIGTERM comes while a works and the command after it is up, waiting for an item.
        let command = #"echo "up $$" >> \#(log); item=$(cat); echo "start $$ [$item]" >> \#(log); sleep 5"#
        let processor = try processor(broker, clock, command: command) {
            $0.prefetch = 1
            $0.spawnAhead = true
        }
        var signalled = false
        broker.onRead = { [unowned processor] in
            let lines = self.lines(of: log)
            if !signalled && lines.count == 3 && lines.filter({ $0.hasPrefix("up ") }).count == 2 {
                signalled = true
                processor.requestStop(SIGTERM)
            }
        }
        let code = try processor.run()
        #expect(signalled)
        #expect(code == 143)
        let lines = lines(of: log)
        // a was stopped by the SIGTERM passed on (returned, no attempt spent); the command that
        // waited for b never read an item, not even an empty one, and is gone.
        #expect(lines.filter { $0.hasPrefix("start ") } == lines.filter { $0.hasSuffix(" [a]") }, "\(lines)")
        #expect(lines.filter { $0.hasPrefix("start ") }.count == 1, "\(lines)")
        let waiting = try #require(lines.filter { $0.hasPrefix("up ") }.last.flatMap { Int32($0.dropFirst(3)) })
        #expect(kill(waiting, 0) == -1 && errno == ESRCH)
        #expect(Set(broker.ready(queue)) == ["a", "b"])
        #expect(broker.ready(queue + ".failed").isEmpty)
        #expect(processor.stats.processed == 0)
    }

    @Test func spawnAheadCommandKilledFromOutsideBeforeItsItemIsReplacedAndTheItemSpendsNoAttempt() throws {
        let broker = InMemoryBroker(queue: queue, items: ["a", "b"])
        let clock = TestLoopClock()
        let log = "/tmp/wq-scenario-\(getpid())-ahead-killed"
        unlink(log)
        defer { unlink(log) }
        // a works 0.3 s; meanwhile the command waiting for b is killed (as the OOM killer would).
        let command = #"echo "up $$" >> \#(log); item=$(cat); echo "start $$ [$item]" >> \#(log); sleep 0.3"#
        let processor = try processor(broker, clock, command: command) {
            $0.prefetch = 1
            $0.maxAttempts = 1
            $0.spawnAhead = true
        }
        var killed: Int32?
        broker.onRead = {
            // The waiting one: up, and not the one that started on a (the two shells race to "up").
            let lines = self.lines(of: log)
            let started = lines.filter { $0.hasPrefix("start ") }.map { $0.split(separator: " ")[1] }
            let waiting = lines.filter { $0.hasPrefix("up ") }.map { $0.dropFirst(3) }.filter { !started.contains($0) }
            if killed == nil && started.count == 1 && waiting.count == 1, let pid = Int32(waiting[0]) {
                killed = pid
                kill(pid, SIGKILL)
            }
        }
        let code = try processor.run()
        #expect(code == 0)
        let victim = try #require(killed)
        let starts = lines(of: log).filter { $0.hasPrefix("start ") }
        // b ran in a command started after the kill; nothing went to the dead-letter queue.
        #expect(starts.map { $0.split(separator: " ")[2] }.sorted() == ["[a]", "[b]"], "\(starts)")
        #expect(!starts.contains { $0.hasPrefix("start \(victim) ") })
        #expect(Set(strings(broker.acknowledged)) == ["a", "b"])
        #expect(broker.ready(queue + ".failed").isEmpty)
        #expect(processor.stats.processed == 2)
    }
}
