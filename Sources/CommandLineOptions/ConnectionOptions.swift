#if canImport(Glibc)
import Glibc
#endif
import Core
import AMQPClient

/// Turns the environment and the shared connection flags into `ConnectionSettings`.
///
/// Precedence, written down once: a flag beats an environment variable, which beats the default.
/// Within each of the two levels the URL is applied first and the single settings (host, port,
/// user, password, vhost) then override its parts.
package struct ConnectionOptions {
    private var flagURLs: [String] = []
    private var flagHost: String?
    private var flagPort: Int?
    private var flagUser: String?
    private var flagPasswordFile: String?
    private var flagVhost: String?
    private var flagQueue: String?
    private var flagQueueType: QueueType?
    private var flagCACert: String?
    private var flagInsecure = false
    private var flagConnectTimeout: Double?
    private var flagHeartbeat: Int?

    package init() {}

    /// The environment variables read, for `--help` and the README.
    package static let helpText = """
        Connection (flag, then environment variable, then default):
          --url URL               WORK_QUEUE_URL       amqp[s]://user:pass@host:port/vhost; several
                                                       (--url again, or commas in WORK_QUEUE_URL) are
                                                       a cluster's nodes, tried in turn
          --host HOST             WORK_QUEUE_HOST      localhost
          --port PORT             WORK_QUEUE_PORT      5672 (5671 for amqps)
          --user USER             WORK_QUEUE_USER      guest
          --password-file PATH    WORK_QUEUE_PASSWORD  guest (no flag takes a password itself)
          --vhost VHOST           WORK_QUEUE_VHOST     /
          --queue NAME            WORK_QUEUE_NAME      work-queue
          --queue-type TYPE       WORK_QUEUE_TYPE      classic (or quorum)
          --cacert PATH           CA certificates to verify an amqps:// broker with
          --insecure              do not verify the amqps:// broker's certificate
          --connect-timeout SECS  10
          --heartbeat SECS        30 (0 turns heartbeats off)
        A URL is applied first; single settings override its parts.
        """

    /// Consumes `option` if it is a connection flag; returns false for any other option.
    package mutating func consume(_ option: String, from scanner: inout ArgumentScanner) throws -> Bool {
        switch option {
        case "--url": flagURLs.append(try scanner.value(for: option))
        case "--host": flagHost = try nonEmpty(scanner.value(for: option), option)
        case "--port": flagPort = try scanner.integer(for: option, in: 1...65535)
        case "--user": flagUser = try nonEmpty(scanner.value(for: option), option)
        case "--password-file": flagPasswordFile = try scanner.value(for: option)
        case "--vhost": flagVhost = try nonEmpty(scanner.value(for: option), option)
        case "--queue": flagQueue = try nonEmpty(scanner.value(for: option), option)
        case "--queue-type": flagQueueType = try Self.queueType(scanner.value(for: option), source: option)
        case "--cacert": flagCACert = try scanner.value(for: option)
        case "--insecure": flagInsecure = true
        case "--connect-timeout": flagConnectTimeout = try scanner.seconds(for: option, in: 0.1...3600)
        case "--heartbeat": flagHeartbeat = try scanner.integer(for: option, in: 0...3600)
        case "--password":
            throw WorkQueueError.usage(
                "--password is not accepted (it would show in 'ps'); use --password-file PATH or WORK_QUEUE_PASSWORD")
        default: return false
        }
        return true
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
        // Level 2: flags.
        if !flagURLs.isEmpty { try apply(urls: flagURLs, source: "--url", to: &s) }
        if let host = flagHost { s.host = host }
        if let port = flagPort { s.port = port }
        if let user = flagUser { s.user = user }
        if let path = flagPasswordFile { s.password = try Self.readPasswordFile(path) }
        if let vhost = flagVhost { s.vhost = vhost }
        if let queue = flagQueue { s.queue = queue }
        if let type = flagQueueType { s.queueType = type }
        if let path = flagCACert {
            guard access(path, R_OK) == 0 else {
                throw WorkQueueError.usage("--cacert \(path): cannot read the file; check the path")
            }
            s.caCertPath = path
        }
        if flagInsecure { s.verifyPeer = false }
        if let timeout = flagConnectTimeout { s.connectTimeout = timeout }
        if let heartbeat = flagHeartbeat { s.heartbeat = heartbeat }
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

    private func nonEmpty(_ value: String, _ option: String) throws -> String {
        guard !value.isEmpty else { throw WorkQueueError.usage("\(option) must not be empty") }
        return value
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
