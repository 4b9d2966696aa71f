#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform
import AMQPClient
import ArgumentParser

/// The connection flags all three tools share (one option group), and their resolution into
/// `ConnectionSettings`.
///
/// Precedence, written down once: a flag beats an environment variable, which beats the default.
/// Within each of the two levels the URL is applied first and the single settings (host, port,
/// user, password, vhost) then override its parts. Every option is read as text and checked in
/// `resolve(environment:)`, which says what range is allowed.
package struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("url"),
        help: .flag(
            "amqp[s]://user:pass@host:port/vhost; several (--url again, or commas in WORK_QUEUE_URL) are a cluster's nodes, tried in turn",
            environment: "WORK_QUEUE_URL", default: "none", valueName: "URL"))
    var urls: [String] = []

    @Option(help: .flag("Broker host", environment: "WORK_QUEUE_HOST", default: "localhost", valueName: "HOST"))
    var host: String?

    @Option(
        parsing: .unconditional,
        help: .flag("Broker port", environment: "WORK_QUEUE_PORT", default: "5672, 5671 for amqps", valueName: "PORT"))
    var port: String?

    @Option(help: .flag("User name", environment: "WORK_QUEUE_USER", default: "guest", valueName: "USER"))
    var user: String?

    @Option(
        help: .flag(
            "File whose first line is the password (no flag takes a password itself)",
            environment: "WORK_QUEUE_PASSWORD", default: "guest", valueName: "PATH"),
        completion: .file())
    var passwordFile: String?

    @Option(help: .flag("Virtual host", environment: "WORK_QUEUE_VHOST", default: "/", valueName: "VHOST"))
    var vhost: String?

    @Option(help: .flag("Work queue name", environment: "WORK_QUEUE_NAME", default: "work-queue", valueName: "NAME"))
    var queue: String?

    @Option(
        help: .flag("classic or quorum", environment: "WORK_QUEUE_TYPE", default: "classic", valueName: "TYPE"),
        completion: .list(["classic", "quorum"]))
    var queueType: String?

    @Option(
        parsing: .unconditional,
        help: .flag(
            "Spread the work over this many queues, QUEUE.0 to QUEUE.N-1, 1 to 64; every tool of a Job must agree",
            environment: "WORK_QUEUE_SHARDS", default: "1 (the queue itself)", valueName: "N"))
    var shards: String?

    @Option(
        name: .customLong("cacert"),
        help: .flag("CA certificates to verify an amqps:// broker with", default: "the system's", valueName: "PATH"),
        completion: .file())
    var caCert: String?

    @Flag(help: .flag("Do not verify the amqps:// broker's certificate", default: "verify"))
    var insecure = false

    @Option(
        parsing: .unconditional,
        help: .flag("Give up connecting after this long, 0.1 to 3600", default: "10", valueName: "SECS"))
    var connectTimeout: String?

    @Option(
        parsing: .unconditional,
        help: .flag("AMQP heartbeat, 0 to 3600; 0 turns heartbeats off", default: "30", valueName: "SECS"))
    var heartbeat: String?

    package init() {}

    /// Refuses `--password` before anything else is parsed: a password on the command line would
    /// show in `ps`. Only arguments before `--` are options.
    package static func refusePassword(in arguments: [String]) throws {
        let options = arguments.prefix { $0 != "--" }
        if options.contains(where: { $0 == "--password" || $0.hasPrefix("--password=") }) {
            throw WorkQueueError.usage(
                "--password is not accepted (it would show in 'ps'); use --password-file PATH or WORK_QUEUE_PASSWORD")
        }
    }

    /// Applies environment, then flags, over the defaults.
    package func resolve(environment: [String: String]) throws -> ConnectionSettings {
        var s = ConnectionSettings()
        // Level 1: environment.
        if let urls = environment["WORK_QUEUE_URL"], !urls.isEmpty {
            try apply(urls: urls.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }, source: "WORK_QUEUE_URL", to: &s)
        }
        if let host = environment["WORK_QUEUE_HOST"], !host.isEmpty { s.host = host }
        if let port = environment["WORK_QUEUE_PORT"], !port.isEmpty {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw WorkQueueError.usage("WORK_QUEUE_PORT must be a port number from 1 to 65535, got '\(port)'")
            }
            s.port = number
        }
        if let user = environment["WORK_QUEUE_USER"], !user.isEmpty { s.user = user }
        if let password = environment["WORK_QUEUE_PASSWORD"], !password.isEmpty { s.password = Secret(password) }
        if let vhost = environment["WORK_QUEUE_VHOST"], !vhost.isEmpty { s.vhost = vhost }
        if let queue = environment["WORK_QUEUE_NAME"], !queue.isEmpty { s.queue = queue }
        if let type = environment["WORK_QUEUE_TYPE"], !type.isEmpty {
            s.queueType = try Self.queueType(type, source: "WORK_QUEUE_TYPE")
        }
        if let shards = environment["WORK_QUEUE_SHARDS"], !shards.isEmpty {
            guard let number = Int(shards), (1...Topology.maxShards).contains(number) else {
                throw WorkQueueError.usage("WORK_QUEUE_SHARDS must be a whole number from 1 to \(Topology.maxShards), got '\(shards)'")
            }
            s.shards = number
        }
        // Level 2: flags.
        if !urls.isEmpty { try apply(urls: urls, source: "--url", to: &s) }
        if let host = try OptionValue.nonEmpty(host, "--host") { s.host = host }
        if let port = try OptionValue.integer(port, "--port", in: 1...65535) { s.port = port }
        if let user = try OptionValue.nonEmpty(user, "--user") { s.user = user }
        if let path = passwordFile { s.password = try Self.readPasswordFile(path) }
        if let vhost = try OptionValue.nonEmpty(vhost, "--vhost") { s.vhost = vhost }
        if let queue = try OptionValue.nonEmpty(queue, "--queue") { s.queue = queue }
        if let type = queueType { s.queueType = try Self.queueType(type, source: "--queue-type") }
        if let shards = try OptionValue.integer(shards, "--shards", in: 1...Topology.maxShards) { s.shards = shards }
        if let path = caCert {
            guard access(path, R_OK) == 0 else {
                throw WorkQueueError.usage("--cacert \(path): cannot read the file; check the path")
            }
            s.caCertPath = path
        }
        if insecure { s.verifyPeer = false }
        if let timeout = try OptionValue.seconds(connectTimeout, "--connect-timeout", in: 0.1...3600) { s.connectTimeout = timeout }
        if let heartbeat = try OptionValue.integer(heartbeat, "--heartbeat", in: 0...3600) { s.heartbeat = heartbeat }
        // Kubernetes sets JOB_COMPLETION_INDEX in the pods of an Indexed Job.
        let index = environment["JOB_COMPLETION_INDEX"].flatMap { Int($0) }
        s.startAddress = AddressSpread.start(count: s.addresses.count, completionIndex: index)
        return s
    }

    /// The first URL sets everything; the others add broker addresses and must log in the same
    /// way (user, password, vhost, scheme), since any of them may serve a reconnect.
    private func apply(urls: [String], source: String, to s: inout ConnectionSettings) throws {
        let parsed = try urls.enumerated().map { i, url in
            try AMQPURL.parse(url, source: urls.count > 1 ? "\(source) (URL \(i + 1))" : source)
        }
        guard let first = parsed.first else { throw WorkQueueError.usage("\(source) names no URL") }
        s.host = first.host
        s.port = first.port
        s.user = first.user
        s.password = first.password
        s.vhost = first.vhost
        s.useTLS = first.tls
        s.otherAddresses = []
        for (i, other) in parsed.enumerated().dropFirst() {
            guard other.user == first.user, other.password == first.password, other.vhost == first.vhost, other.tls == first.tls else {
                throw WorkQueueError.usage(
                    "\(source): URL \(i + 1) has another user, password, vhost or scheme than URL 1; the URLs of one cluster must agree (the values are not shown)")
            }
            s.otherAddresses.append(BrokerAddress(host: other.host, port: other.port))
        }
    }

    static func queueType(_ text: String, source: String) throws -> QueueType {
        guard let type = QueueType(rawValue: text.lowercased()) else {
            throw WorkQueueError.usage("\(source) must be 'classic' or 'quorum', got '\(text)'")
        }
        return type
    }

    /// Reads a password file: its first line, without the line ending.
    static func readPasswordFile(_ path: String) throws -> Secret {
        guard let bytes = FileBytes.read(path: path) else {
            throw WorkQueueError.usage("--password-file \(path): cannot read the file; check the path and its permissions")
        }
        var line = bytes.prefix { $0 != 0x0A }
        if line.last == 0x0D { line.removeLast() }
        guard !line.isEmpty else {
            throw WorkQueueError.usage("--password-file \(path): the file is empty")
        }
        return Secret(String(decoding: line, as: UTF8.self))
    }
}
