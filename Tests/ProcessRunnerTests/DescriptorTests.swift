#if canImport(Glibc)
import Glibc
#endif
import Testing

import Core
import Platform
import ProcessRunner

@Suite("Descriptors owned once: pipes and a child's stdin and stdout")
struct DescriptorTests {
    @Test("a pipe pair that goes away closes both its ends")
    func droppedPairClosesBothEnds() throws {
        let recorder = PipeRecorder()
        do {
            let pair = try PipePair.make(what: "a test pipe", pipe: recorder.pipe)
            #expect(pair.read.rawValue == recorder.ends[0].fd)
            #expect(recorder.ends.allSatisfy { !recorder.isClosed($0) })
        }
        #expect(recorder.ends.count == 2)
        #expect(recorder.ends.allSatisfy(recorder.isClosed))
    }

    @Test("close() closes a descriptor at once; another owner's stays open until it goes away")
    func closeClosesAtOnce() throws {
        let recorder = PipeRecorder()
        let fds = try recorder.rawPipe()
        let read = OwnedDescriptor(adopting: fds[0])
        do {
            let other = OwnedDescriptor(adopting: fds[1])
            read.close()
            #expect(recorder.isClosed(recorder.ends[0]))
            #expect(!recorder.isClosed(recorder.ends[1]))
            _ = other.rawValue
        }
        #expect(recorder.isClosed(recorder.ends[1]))
    }

    @Test("take() hands a descriptor over: its former owner does not close it")
    func takeHandsOver() throws {
        let recorder = PipeRecorder()
        var taken: Int32 = -1
        do {
            let fds = try recorder.rawPipe()
            let read = OwnedDescriptor(adopting: fds[0])
            let write = OwnedDescriptor(adopting: fds[1])
            taken = write.take()
            _ = read.rawValue
        }
        #expect(taken == recorder.ends[1].fd)
        #expect(recorder.isClosed(recorder.ends[0]))
        #expect(!recorder.isClosed(recorder.ends[1]))
        close(taken)
    }

    @Test("a pipe that cannot be made is reported with the system's reason")
    func failedPipeIsReported() {
        let recorder = PipeRecorder(pipesBeforeFailing: 0)
        #expect(throws: WorkQueueError.failure("cannot create a test pipe: \(String(cString: strerror(EMFILE)))")) {
            _ = try PipePair.make(what: "a test pipe", pipe: recorder.pipe)
        }
        #expect(recorder.ends.isEmpty)
    }

    @Test("when a worker's second pipe cannot be made, the first pipe's ends are closed")
    func secondPipeFailureClosesTheFirst() {
        let recorder = PipeRecorder(pipesBeforeFailing: 1)
        #expect(throws: WorkQueueError.failure("cannot create a pipe for the worker's output: \(String(cString: strerror(EMFILE)))")) {
            _ = try ChildProcess(
                argv: [Array("/bin/cat".utf8)], environment: [], input: [], streaming: true, executable: "/bin/cat",
                pipe: recorder.pipe)
        }
        #expect(recorder.ends.count == 2)
        #expect(recorder.ends.allSatisfy(recorder.isClosed))
    }

    @Test("a program that cannot start leaves no pipe end open")
    func failedSpawnClosesEverything() {
        let recorder = PipeRecorder()
        #expect(throws: WorkQueueError.self) {
            _ = try ChildProcess(
                argv: [Array("/nonexistent/program".utf8)], environment: [], input: [], streaming: true,
                executable: "/nonexistent/program", pipe: recorder.pipe)
        }
        #expect(recorder.ends.count == 4)
        #expect(recorder.ends.allSatisfy(recorder.isClosed))
    }

    @Test("a started child's ends are closed here at once; ours when the child is done with them")
    func childEndsClosedOnce() throws {
        let recorder = PipeRecorder()
        let child = try ChildProcess(
            argv: [Array("/bin/cat".utf8)], environment: [], input: Array("hello\n".utf8), streaming: true,
            executable: "/bin/cat", pipe: recorder.pipe)
        let ends = recorder.ends  // stdin read, stdin write, stdout read, stdout write
        #expect(ends.count == 4)
        #expect(recorder.isClosed(ends[0]))
        #expect(recorder.isClosed(ends[3]))
        #expect(child.stdinFD == ends[1].fd && !recorder.isClosed(ends[1]))
        #expect(child.stdoutFD == ends[2].fd && !recorder.isClosed(ends[2]))

        child.closeInput()
        #expect(child.stdinFD == -1)
        #expect(recorder.isClosed(ends[1]))
        var output: [UInt8] = []
        let until = MonotonicClock.now() + .seconds(5)
        while child.readOutput(into: &output) && MonotonicClock.now() < until { Sleep.for(.milliseconds(5)) }
        #expect(String(decoding: output, as: UTF8.self) == "hello\n")
        #expect(child.stdoutFD == -1)
        #expect(recorder.isClosed(ends[2]))
        #expect(waitForExit(child) == .exited(0))
    }

    @Test("a child that goes away closes the ends it still held")
    func droppedChildClosesItsEnds() throws {
        let recorder = PipeRecorder()
        var pid: pid_t = 0
        do {
            let child = try ChildProcess(
                argv: [Array("/bin/cat".utf8)], environment: [], input: [], streaming: true, executable: "/bin/cat",
                pipe: recorder.pipe)
            pid = child.pid
            #expect(!recorder.isClosed(recorder.ends[1]) && !recorder.isClosed(recorder.ends[2]))
        }
        #expect(recorder.ends.allSatisfy(recorder.isClosed))
        // cat saw end of file when its stdin closed; reap it.
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
    }
}
