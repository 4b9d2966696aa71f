import Foundation
import TestSupport
import Testing

@Suite("Bad input and unreachable brokers: one line, a documented exit code, no secrets", .serialized)
struct ErrorExitTests {
    func expectOneLine(_ result: CommandResult, status: Int32, containing text: String, tool: String) {
        #expect(result.status == status, "\(result.output)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("\(tool):") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains(text) == true, "\(result.stderr)")
        #expect(!result.output.contains("Fatal error"))
    }

    @Test("a closed port exits 69 once --connect-timeout is spent")
    func closedPort() throws {
        for tool in ["loader", "processor"] {
            let r = try Executables.run(tool, ["--host", "127.0.0.1", "--port", "1", "--connect-timeout", "1"], timeout: 15)
            expectOneLine(r, status: 69, containing: "cannot connect to the broker at 127.0.0.1:1", tool: tool)
        }
    }

    @Test("an unknown host exits 69")
    func unknownHost() throws {
        let r = try Executables.run("loader", ["--host", "no-such-host.invalid", "--connect-timeout", "1"], timeout: 30)
        expectOneLine(r, status: 69, containing: "no-such-host.invalid", tool: "loader")
    }

    @Test("a broker that never answers times out after --connect-timeout and exits 69")
    func silentBroker() throws {
        let listener = try SilentListener()
        let started = Date()
        let r = try Executables.run("loader", ["--host", "127.0.0.1", "--port", String(listener.port), "--connect-timeout", "1"], timeout: 20)
        expectOneLine(r, status: 69, containing: "did not answer in time", tool: "loader")
        #expect(Date().timeIntervalSince(started) < 8)
    }

    @Test("a wrong password exits 77 and the password never appears")
    func wrongPassword() throws {
        let s = try Scenario("pw")
        let file = s.path("pw")
        try "wrong-Pa55word\n".write(toFile: file, atomically: true, encoding: .utf8)
        let byFile = try s.run("processor", ["--password-file", file])
        expectOneLine(byFile, status: 77, containing: "access refused", tool: "processor")
        #expect(!byFile.output.contains("wrong-Pa55word"))
        let byURL = try s.run("loader", adding: ["WORK_QUEUE_URL": "amqp://guest:url-Secret9@127.0.0.1:\(TestBroker.port)/"])
        expectOneLine(byURL, status: 77, containing: "access refused", tool: "loader")
        #expect(!byURL.output.contains("url-Secret9"))
    }

    @Test("an unknown vhost exits 77")
    func unknownVhost() throws {
        let s = try Scenario("vhost")
        let r = try s.run("loader", ["--vhost", "no-such-vhost"])
        expectOneLine(r, status: 77, containing: "vhost", tool: "loader")
    }

    @Test("usage errors exit 64: unknown flags, bad numbers, bad URLs, missing files, unknown commands")
    func usageErrors() throws {
        let cases: [(String, [String], String)] = [
            ("loader", ["--frobnicate"], "unknown option '--frobnicate'"),
            ("loader", ["--count", "many"], "--count must be a whole number"),
            ("loader", ["--file", "/nonexistent/items"], "/nonexistent/items"),
            ("loader", ["--url", "http://user:hunter2@x/"], "not a valid amqp"),
            ("processor", ["--prefetch", "0"], "--prefetch"),
            ("processor", ["--", "/nonexistent/tool"], "not found or not executable"),
            ("processor", ["stray"], "put the command after --"),
        ]
        for (tool, arguments, text) in cases {
            let r = try Executables.run(tool, arguments, environment: TestBroker.environment(queue: "unused"), timeout: 15)
            expectOneLine(r, status: 64, containing: text, tool: tool)
            #expect(!r.output.contains("hunter2"))
        }
    }

    @Test("errors the argument parser finds are one line on stderr and exit 64, without a usage block")
    func parserErrors() throws {
        let cases: [(String, [String], String)] = [
            ("loader", ["--nope"], "loader: unknown option '--nope'"),
            ("processor", ["--host"], "processor: missing value for '--host <HOST>'; see processor --help"),
            ("wqtop", ["--once", "--queue"], "wqtop: missing value for '--queue <NAME>'; see wqtop --help"),
            ("processor", ["a", "b"], "processor: unexpected argument 'b'; see processor --help"),
        ]
        for (tool, arguments, line) in cases {
            let r = try Executables.run(tool, arguments, environment: TestBroker.environment(queue: "unused"), timeout: 15)
            #expect(r.status == 64, "\(tool) \(arguments): \(r.output)")
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
            #expect(lines.count == 1 && lines.first?.hasPrefix(line) == true, "\(tool) \(arguments): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(tool) \(arguments): \(r.stdout)")
        }
    }

    @Test("--version prints the version and --generate-completion-script a script, both exit 0")
    func versionAndCompletion() throws {
        for tool in ["loader", "processor", "wqtop"] {
            let version = try Executables.run(tool, ["--version"])
            #expect(version.status == 0 && version.stdout == "0.4.0\n", "\(tool): \(version.output)")
            let script = try Executables.run(tool, ["--generate-completion-script", "bash"])
            #expect(script.status == 0 && script.stdout.contains("--queue-type") && script.stderr.isEmpty, "\(tool)")
        }
    }

    @Test("--help documents configuration and exit codes and exits 0")
    func help() throws {
        for tool in ["loader", "processor", "wqtop"] {
            let r = try Executables.run(tool, ["--help"])
            #expect(r.status == 0)
            for word in ["WORK_QUEUE_URL", "WORK_QUEUE_HOST", "--password-file", "Exit codes", "77"] {
                #expect(r.stdout.contains(word), "\(tool) --help lacks \(word)")
            }
        }
        #expect(try Executables.run("processor", ["--help"]).stdout.contains("WORK_ITEM"))
    }
}

/// A loopback TCP listener that accepts connections and never says a word.
final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            port = 0
            throw TestFailure("cannot listen on loopback")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
