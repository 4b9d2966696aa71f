import Foundation
import Testing

import Core
import Load
import Drain
import Monitor
import CommandLineOptions
@testable import loader
@testable import processor
@testable import wqtop

@Suite("Configuration: flag, then environment, then default")
struct ConnectionOptionsTests {
    func resolve(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ConnectionSettings {
        guard case .run(let config) = try LoaderConfiguration.parse(arguments: arguments, environment: environment) else {
            throw TestFailureLocal("expected a run")
        }
        return config.connection
    }

    @Test("defaults match the original: localhost 5672 guest / work-queue")
    func defaults() throws {
        let s = try resolve([])
        #expect(s.host == "localhost")
        #expect(s.port == 5672)
        #expect(s.user == "guest")
        #expect(s.password.value == "guest")
        #expect(s.vhost == "/")
        #expect(s.queue == "work-queue")
        #expect(s.queueType == .classic)
        #expect(s.shards == 1)
        #expect(s.useTLS == false)
    }

    @Test("--shards and WORK_QUEUE_SHARDS: 1 to 64, the flag first; anything else is a usage error")
    func shards() throws {
        #expect(try resolve([], ["WORK_QUEUE_SHARDS": "4"]).shards == 4)
        #expect(try resolve(["--shards", "2"], ["WORK_QUEUE_SHARDS": "4"]).shards == 2)
        #expect(try resolve(["--shards=64"]).shards == 64)
        for bad in ["0", "65", "-1", "two", "1.5"] {
            #expect(throws: WorkQueueError.self) { try resolve(["--shards", bad]) }
            #expect(throws: WorkQueueError.self) { try resolve([], ["WORK_QUEUE_SHARDS": bad]) }
        }
    }

    @Test("environment variables override defaults")
    func environment() throws {
        let s = try resolve([], [
            "WORK_QUEUE_HOST": "rabbit", "WORK_QUEUE_PORT": "5673", "WORK_QUEUE_USER": "u",
            "WORK_QUEUE_PASSWORD": "p", "WORK_QUEUE_VHOST": "v", "WORK_QUEUE_NAME": "q", "WORK_QUEUE_TYPE": "quorum",
        ])
        #expect(s.host == "rabbit")
        #expect(s.port == 5673)
        #expect(s.user == "u")
        #expect(s.password.value == "p")
        #expect(s.vhost == "v")
        #expect(s.queue == "q")
        #expect(s.queueType == .quorum)
    }

    @Test("flags override environment variables")
    func flagsWin() throws {
        let s = try resolve(
            ["--host", "flaghost", "--port=6000", "--queue", "fq", "--vhost", "fv", "--user", "fu"],
            ["WORK_QUEUE_HOST": "envhost", "WORK_QUEUE_PORT": "5673", "WORK_QUEUE_NAME": "eq"])
        #expect(s.host == "flaghost")
        #expect(s.port == 6000)
        #expect(s.queue == "fq")
        #expect(s.vhost == "fv")
        #expect(s.user == "fu")
    }

    @Test("a URL supplies host, port, credentials and vhost; single settings of the same level override it")
    func urlThenSingles() throws {
        let s = try resolve([], ["WORK_QUEUE_URL": "amqp://alice:s3cret@broker:5700/jobs", "WORK_QUEUE_PORT": "5800"])
        #expect(s.host == "broker")
        #expect(s.port == 5800)
        #expect(s.user == "alice")
        #expect(s.password.value == "s3cret")
        #expect(s.vhost == "jobs")
    }

    @Test("--url beats the environment's host; amqps turns TLS on with port 5671")
    func flagURLBeatsEnvironment() throws {
        let s = try resolve(["--url", "amqps://bob:pw@secure.example/%2f"], ["WORK_QUEUE_HOST": "envhost"])
        #expect(s.host == "secure.example")
        #expect(s.port == 5671)
        #expect(s.useTLS)
        #expect(s.vhost == "/")
        #expect(s.verifyPeer)
        let insecure = try resolve(["--url", "amqps://h", "--insecure"])
        #expect(insecure.verifyPeer == false)
    }

    @Test("a bad URL is a usage error that never shows the password")
    func badURLHidesPassword() throws {
        for url in ["http://user:hunter2@host/", "amqp://user:hunter2@host:notaport/"] {
            do {
                _ = try resolve(["--url", url])
                Issue.record("accepted \(url)")
            } catch let error as WorkQueueError {
                #expect(error.kind == .usage)
                #expect(!error.message.contains("hunter2"))
                #expect(error.exitCode == 64)
            }
        }
    }

    @Test("--password-file reads the first line without its line ending")
    func passwordFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID())").path
        try "top secret\r\nignored\n".write(toFile: path, atomically: true, encoding: .utf8)
        let s = try resolve(["--password-file", path], ["WORK_QUEUE_PASSWORD": "env"])
        #expect(s.password.value == "top secret")
        #expect("\(s.password)" == "<redacted>")
    }

    @Test("--password is refused, a missing password file and bad numbers are usage errors")
    func usageErrors() {
        let cases: [([String], [String: String])] = [
            (["--password", "x"], [:]),
            (["--password-file", "/nonexistent/pw"], [:]),
            (["--port", "0"], [:]),
            (["--port", "http"], [:]),
            (["--queue-type", "stream"], [:]),
            ([], ["WORK_QUEUE_PORT": "abc"]),
            (["--count", "-1"], [:]),
            (["--count", "3", "item"], [:]),
            (["--nope"], [:]),
            (["--host"], [:]),
            (["--password"], [:]),
            (["--password=x"], [:]),
            (["--port", "1", "--password", "--host", "h"], [:]),
            (["--declare-only", "item"], [:]),
            (["--declare-only", "--count", "3"], [:]),
            (["--declare-only", "--from-failed"], [:]),
        ]
        for (arguments, environment) in cases {
            do {
                _ = try LoaderConfiguration.parse(arguments: arguments, environment: environment)
                Issue.record("accepted \(arguments) \(environment)")
            } catch let error as WorkQueueError {
                #expect(error.kind == .usage, "\(arguments) \(environment): \(error.kind) \(error.message)")
            } catch {
                Issue.record("\(arguments) \(environment): not a WorkQueueError: \(error)")
            }
        }
    }

    @Test("the loader's item sources: default 0..99, items, --count, --file")
    func loaderSources() throws {
        func source(_ arguments: [String]) throws -> ItemSource {
            guard case .run(let c) = try LoaderConfiguration.parse(arguments: arguments, environment: [:]) else {
                throw TestFailureLocal("help")
            }
            return c.source
        }
        #expect(try source([]) == .count(100))
        #expect(try source(["a", "b"]) == .arguments(["a", "b"]))
        #expect(try source(["--", "--not-an-option"]) == .arguments(["--not-an-option"]))
        #expect(try source(["--count", "7"]) == .count(7))
        #expect(try source(["--file", "-"]) == .file("-"))
        #expect(try source(["--", "--help", "--version", "--password"]) == .arguments(["--help", "--version", "--password"]))
        guard case .run(let declare) = try LoaderConfiguration.parse(arguments: ["--declare-only"], environment: [:]) else {
            throw TestFailureLocal("help")
        }
        #expect(declare.declareOnly && declare.progressExchange == "work-queue.progress")
    }

    @Test("processor options and the command after --")
    func processorOptions() throws {
        guard
            case .run(let c) = try ProcessorConfiguration.parse(
                arguments: ["--prefetch", "10", "--max-attempts", "5", "--grace", "3", "--", "sh", "-c", "echo {}"],
                environment: ["POD_NAME": "pod-1", "PATH": "/usr/bin:/bin"])
        else { throw TestFailureLocal("help") }
        #expect(c.prefetch == 10)
        #expect(c.maxAttempts == 5)
        #expect(c.grace == .seconds(3))
        #expect(c.command?.arguments == ["sh", "-c", "echo {}"])
        #expect(c.command?.executable == "/usr/bin/sh", "found in PATH once, at start")
        #expect(c.podName == "pod-1")
        guard case .run(let after) = try ProcessorConfiguration.parse(
            arguments: ["-q", "--", "sh", "--help", "--version", "-q"], environment: ["PATH": "/usr/bin:/bin"])
        else { throw TestFailureLocal("help") }
        #expect(after.command?.arguments == ["sh", "--help", "--version", "-q"], "after -- every word is the command's")
        #expect(throws: WorkQueueError.usage("no command after --; see processor --help")) {
            _ = try ProcessorConfiguration.parse(arguments: ["--"], environment: [:])
        }
        #expect(throws: WorkQueueError.self) {
            _ = try ProcessorConfiguration.parse(arguments: ["--", "no-such-command-xyz"], environment: ["PATH": "/usr/bin"])
        }
        #expect(throws: WorkQueueError.self) {
            _ = try ProcessorConfiguration.parse(arguments: ["sh"], environment: [:])
        }
    }

    @Test("--consumer-timeout: flag over WORK_QUEUE_CONSUMER_TIMEOUT over unknown, in milliseconds, checked")
    func consumerTimeoutOption() throws {
        func timeout(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ConsumerTimeout? {
            guard case .run(let c) = try ProcessorConfiguration.parse(arguments: arguments, environment: environment)
            else { throw TestFailureLocal("help") }
            return c.consumerTimeout
        }
        #expect(try timeout([]) == nil, "unknown unless given or learned")
        #expect(try timeout([], ["WORK_QUEUE_CONSUMER_TIMEOUT": "5000"]) == ConsumerTimeout(milliseconds: 5000))
        #expect(try timeout([], ["WORK_QUEUE_CONSUMER_TIMEOUT": ""]) == nil)
        #expect(try timeout(["--consumer-timeout", "1800000"], ["WORK_QUEUE_CONSUMER_TIMEOUT": "5000"]) == ConsumerTimeout(milliseconds: 1_800_000))
        #expect(throws: WorkQueueError.usage("WORK_QUEUE_CONSUMER_TIMEOUT must be a whole number from 1000 to 31622400000, got '5s'")) {
            _ = try timeout([], ["WORK_QUEUE_CONSUMER_TIMEOUT": "5s"])
        }
        #expect(throws: WorkQueueError.usage("--consumer-timeout must be a whole number from 1000 to 31622400000, got '10'")) {
            _ = try timeout(["--consumer-timeout", "10"])
        }
    }

    @Test("worker modes: --concurrency raises the prefetch, --stdio needs a worker, formats are checked")
    func workerModeOptions() throws {
        let env = ["PATH": "/usr/bin:/bin"]
        guard case .run(let c) = try ProcessorConfiguration.parse(arguments: ["--concurrency", "4", "--stdio", "--", "cat"], environment: env)
        else { throw TestFailureLocal("help") }
        #expect(c.concurrency == 4 && c.prefetch == 4 && c.stdio == .lines)
        guard case .run(let j) = try ProcessorConfiguration.parse(
            arguments: ["--prefetch", "50", "--stdio", "--stdio-format", "json", "--", "cat"], environment: env)
        else { throw TestFailureLocal("help") }
        #expect(j.prefetch == 50 && j.stdio == .json && j.progressExchange == "work-queue.progress")
        let failures: [([String], String)] = [
            (["--stdio"], "--stdio needs a worker command after --"),
            (["--stdio-format", "json", "--", "cat"], "--stdio-format needs --stdio"),
            (["--stdio", "--stdio-format", "xml", "--", "cat"], "--stdio-format must be lines or json, got 'xml'"),
            (["--concurrency", "0"], "--concurrency"),
        ]
        expectProcessorUsageErrors(failures, environment: env)
        guard case .run(let quiet) = try ProcessorConfiguration.parse(arguments: ["--no-progress"], environment: env)
        else { throw TestFailureLocal("help") }
        #expect(quiet.progressExchange == nil)
    }

    @Test("--spawn-ahead: a command per item that takes the item on stdin; not with --stdio, the demo work or {}")
    func spawnAheadOptions() throws {
        let env = ["PATH": "/usr/bin:/bin"]
        guard case .run(let c) = try ProcessorConfiguration.parse(
            arguments: ["--spawn-ahead", "--concurrency", "2", "--", "cat"], environment: env)
        else { throw TestFailureLocal("help") }
        #expect(c.spawnAhead && c.concurrency == 2 && c.command?.arguments == ["cat"])
        guard case .run(let plain) = try ProcessorConfiguration.parse(arguments: ["--", "cat"], environment: env)
        else { throw TestFailureLocal("help") }
        #expect(!plain.spawnAhead)
        let failures: [([String], String)] = [
            (["--spawn-ahead"], "--spawn-ahead needs a command after --"),
            (["--spawn-ahead", "--stdio", "--", "cat"], "--spawn-ahead is for a command per item"),
            (["--spawn-ahead", "--", "echo", "item={}"], "{} cannot be filled in; read the item from stdin, or drop --spawn-ahead"),
        ]
        expectProcessorUsageErrors(failures, environment: env)
    }

    @Test("wqtop's options: interval, modes, exchange, NO_COLOR")
    func monitorOptions() throws {
        guard case .run(let c) = try MonitorConfiguration.parse(
            arguments: ["--interval", "0.5", "--json", "--exit-when-drained", "--queue", "jobs"], environment: ["NO_COLOR": "1"])
        else { throw TestFailureLocal("help") }
        #expect(c.interval == .milliseconds(500) && c.output == .json && c.exitWhenDrained && !c.color)
        #expect(c.progressExchange == "jobs.progress")
        #expect(throws: WorkQueueError.self) { _ = try MonitorConfiguration.parse(arguments: ["--interval", "0"], environment: [:]) }
        for arguments in [["--json", "--once"], ["--once", "--json"]] {
            guard case .run(let one) = try MonitorConfiguration.parse(arguments: arguments, environment: [:])
            else { throw TestFailureLocal("help") }
            #expect(one.output == .once(json: true) && one.color, "--once with --json: one JSON object, in either order")
        }
        guard case .run(let text) = try MonitorConfiguration.parse(arguments: ["--once"], environment: [:])
        else { throw TestFailureLocal("help") }
        #expect(text.output == .once(json: false))
        for arguments in [["x"], ["--", "x"], ["--"]] {
            #expect(throws: WorkQueueError.usage("wqtop takes no arguments; see wqtop --help")) {
                _ = try MonitorConfiguration.parse(arguments: arguments, environment: [:])
            }
        }
    }

    @Test("wqtop --serve: alone it is headless, with --json both; the flag over WORK_QUEUE_SERVE; not with --once")
    func serveOption() throws {
        func config(_ arguments: [String], _ environment: [String: String] = [:]) throws -> MonitorConfiguration {
            guard case .run(let c) = try MonitorConfiguration.parse(arguments: arguments, environment: environment)
            else { throw TestFailureLocal("help") }
            return c
        }
        let alone = try config(["--serve", ":9464"])
        #expect(alone.serve == ListenAddress(host: "0.0.0.0", port: 9464) && alone.output == .headless)
        #expect(try config(["--serve", "127.0.0.1:1", "--json"]).output == .json)
        // Serving, a broker that is not there yet is waited for, --json or not.
        #expect(try config(["--serve", "127.0.0.1:1", "--json"]).keepsTrying && alone.keepsTrying)
        #expect(try !config(["--json"]).keepsTrying)
        #expect(try config([], ["WORK_QUEUE_SERVE": "[::1]:9"]).serve == ListenAddress(host: "::1", port: 9))
        #expect(try config(["--serve", ":1"], ["WORK_QUEUE_SERVE": ":2"]).serve?.port == 1)
        #expect(try config([], ["WORK_QUEUE_SERVE": ""]).serve == nil)
        #expect(try config([]).output == .terminal)
        #expect(throws: WorkQueueError.self) { _ = try config(["--serve", ":1", "--once"]) }
        #expect(throws: WorkQueueError.self) { _ = try config(["--serve", "localhost"]) }
    }
}

/// What each tool's command line prints instead of running: help, version, completion scripts.
@Suite("Help, version and shell completion")
struct CommandLineOutputTests {
    /// The three tools' parsers, as text-or-run, by name.
    static let tools: [(name: String, parse: @Sendable ([String]) throws -> String?)] = [
        ("loader", { arguments in
            if case .output(let text) = try LoaderConfiguration.parse(arguments: arguments, environment: [:]) { return text }
            return nil
        }),
        ("processor", { arguments in
            if case .output(let text) = try ProcessorConfiguration.parse(arguments: arguments, environment: [:]) { return text }
            return nil
        }),
        ("wqtop", { arguments in
            if case .output(let text) = try MonitorConfiguration.parse(arguments: arguments, environment: [:]) { return text }
            return nil
        }),
    ]

    @Test("--version prints the one version string of all three tools")
    func version() throws {
        for tool in Self.tools {
            #expect(try tool.parse(["--version"]) == ToolVersion.current, "\(tool.name)")
        }
        #expect(ToolVersion.current == "0.4.0")
    }

    @Test("the loader's load events: QUEUE.progress by default, --progress-exchange X, --no-progress")
    func loaderProgressExchange() throws {
        func exchange(_ arguments: [String], _ environment: [String: String] = [:]) throws -> String? {
            guard case .run(let c) = try LoaderConfiguration.parse(arguments: arguments, environment: environment) else {
                throw TestFailureLocal("help")
            }
            return c.progressExchange
        }
        #expect(try exchange([]) == "work-queue.progress")
        #expect(try exchange([], ["WORK_QUEUE_NAME": "jobs"]) == "jobs.progress")
        #expect(try exchange(["--queue", "jobs", "--progress-exchange", "x"]) == "x")
        #expect(try exchange(["--no-progress"]) == nil)
        #expect(try exchange(["--from-failed", "--no-progress"]) == nil)
        let help = try #require(try Self.tools[0].parse(["--help"]))
        #expect(help.contains("--progress-exchange") && help.contains("--no-progress"))
    }

    @Test("--help and -h list every flag with its environment variable, default and the exit codes")
    func help() throws {
        for tool in Self.tools {
            let text = try #require(try tool.parse(["--help"]), "\(tool.name)")
            #expect(try tool.parse(["-h"]) == text)
            for word in [
                "--url", "WORK_QUEUE_URL", "--host", "WORK_QUEUE_HOST", "localhost", "--port", "WORK_QUEUE_PORT", "5672",
                "--user", "WORK_QUEUE_USER", "--password-file", "WORK_QUEUE_PASSWORD", "--vhost", "WORK_QUEUE_VHOST",
                "--queue", "WORK_QUEUE_NAME", "work-queue", "--queue-type", "WORK_QUEUE_TYPE", "--shards", "WORK_QUEUE_SHARDS", "--cacert", "--insecure",
                "--connect-timeout", "--heartbeat", "--version", "Exit codes", "64", "69", "77",
            ] {
                #expect(text.contains(word), "\(tool.name) --help lacks \(word)")
            }
            #expect(!text.contains("--password <"), "\(tool.name) --help offers --password")
        }
        let processor = try #require(try Self.tools[1].parse(["--help"]))
        for word in ["WORK_ITEM", "POD_NAME", "--stdio", "--stdio-format", "--concurrency", "-q, --quiet", "130", "143"] {
            #expect(processor.contains(word), "processor --help lacks \(word)")
        }
        let wqtop = try #require(try Self.tools[2].parse(["--help"]))
        for word in ["--interval", "--once", "--json", "--exit-when-drained", "NO_COLOR"] {
            #expect(wqtop.contains(word), "wqtop --help lacks \(word)")
        }
    }

    @Test("--generate-completion-script writes a bash, zsh and fish script for each tool")
    func completionScripts() throws {
        for tool in Self.tools {
            for shell in ["bash", "zsh", "fish"] {
                let script = try #require(try tool.parse(["--generate-completion-script", shell]), "\(tool.name) \(shell)")
                #expect(!script.isEmpty && script.contains(tool.name), "\(tool.name) \(shell)")
                #expect(script.contains("queue-type") && script.contains("quorum"), "\(tool.name) \(shell) completes the connection flags")
            }
        }
    }

    @Test("errors the parser finds itself are one usage line that says where help is")
    func parserErrorsAreOneLine() {
        let cases: [(String, [String], String)] = [
            ("loader", ["--frobnicate"], "unknown option '--frobnicate'"),
            ("loader", ["--host"], "missing value for '--host <HOST>'"),
            ("processor", ["a", "b"], "unexpected argument 'b'"),
            ("wqtop", ["--queue"], "missing value for '--queue <NAME>'"),
        ]
        for (name, arguments, text) in cases {
            let tool = Self.tools.first { $0.name == name }!
            do {
                _ = try tool.parse(arguments)
                Issue.record("\(name) accepted \(arguments)")
            } catch let error as WorkQueueError {
                #expect(error.kind == .usage && error.exitCode == 64)
                #expect(error.message.hasPrefix(text) && error.message.hasSuffix("; see \(name) --help"), "\(error.message)")
                #expect(!error.message.contains("\n"), "\(error.message)")
            } catch {
                Issue.record("\(name) \(arguments): not a WorkQueueError: \(error)")
            }
        }
    }

    @Test("-q is --quiet for loader and processor")
    func shortQuiet() throws {
        guard case .run(let loader) = try LoaderConfiguration.parse(arguments: ["-q"], environment: [:]),
            case .run(let processor) = try ProcessorConfiguration.parse(arguments: ["-q"], environment: [:])
        else { throw TestFailureLocal("help") }
        #expect(loader.quiet && processor.quiet)
    }
}

struct TestFailureLocal: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

@Suite("Several broker addresses")
struct SeveralAddressesTests {
    func resolve(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ConnectionSettings {
        try ConnectionOptionsTests().resolve(arguments, environment)
    }

    @Test("--url given several times lists a cluster's nodes in order; the first sets the login")
    func severalFlags() throws {
        let s = try resolve(["--url", "amqp://u:p@node-1:5701/v", "--url", "amqp://u:p@node-2:5702/v", "--url", "amqp://u:p@node-3/v"])
        #expect(s.addresses.map(\.description) == ["node-1:5701", "node-2:5702", "node-3:5672"])
        #expect(s.user == "u" && s.password.value == "p" && s.vhost == "v")
        #expect(s.endpoint == "node-1:5701,node-2:5702,node-3:5672")
    }

    @Test("WORK_QUEUE_URL holds several URLs separated by commas; --url replaces them all")
    func environmentList() throws {
        let env = ["WORK_QUEUE_URL": "amqp://u:p@a:1/v, amqp://u:p@b:2/v"]
        #expect(try resolve([], env).addresses.map(\.description) == ["a:1", "b:2"])
        #expect(try resolve(["--url", "amqp://u:p@c:3/v"], env).addresses.map(\.description) == ["c:3"])
        #expect(try resolve(["--host", "h"], env).addresses.map(\.description) == ["h:1", "b:2"], "--host overrides the first only")
    }

    @Test("URLs that log in differently are a usage error that shows no password")
    func mismatch() throws {
        do {
            _ = try resolve(["--url", "amqp://u:secret1@a/v", "--url", "amqp://u:secret2@b/v"])
            Issue.record("accepted URLs with two passwords")
        } catch let error as WorkQueueError {
            #expect(error.kind == .usage)
            #expect(error.message.contains("URL 2") && !error.message.contains("secret"), "\(error.message)")
        }
        do {
            _ = try resolve(["--url", "amqp://u:p@a/v", "--url", "not a url :secret@"])
            Issue.record("accepted a bad second URL")
        } catch let error as WorkQueueError {
            #expect(error.kind == .usage && error.message.contains("URL 2") && !error.message.contains("secret"), "\(error.message)")
        }
    }
}

/// Each of `failures` (arguments, a part of the message) is refused by the processor's parser as
/// a usage error saying so.
func expectProcessorUsageErrors(_ failures: [([String], String)], environment: [String: String]) {
    for (arguments, message) in failures {
        do {
            _ = try ProcessorConfiguration.parse(arguments: arguments, environment: environment)
            Issue.record("\(arguments) was accepted")
        } catch let error as WorkQueueError {
            #expect(error.kind == .usage && error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("\(arguments): \(error)")
        }
    }
}
