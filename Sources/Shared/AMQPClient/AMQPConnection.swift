internal import CRabbitMQ
#if canImport(Glibc)
import Glibc
#endif
import Core

/// One AMQP 0-9-1 connection to RabbitMQ through rabbitmq-c, with the project's channels (work,
/// publish, inspect, side, marker, pulse). Every frame read outside an RPC reply goes through `route`.
///
/// rabbitmq-c is not thread-safe per connection, so an `AMQPConnection` belongs to the one thread
/// that made it and is deliberately not `Sendable`. `close()` is explicit and idempotent.
package final class AMQPConnection {
    /// Consuming and acknowledging work items.
    package static let workChannel: UInt16 = 1
    /// Publishing with publisher confirms (loads, retries, dead letters).
    package static let publishChannel: UInt16 = 2
    /// Passive declares: a missing queue closes only this channel.
    package static let inspectChannel: UInt16 = 3
    /// A consumer that receives nothing and is there only to be counted (`standAsConsumer`).
    package static let markerChannel: UInt16 = 5
    /// The pulse consumer a processor holding work adds and cancels in turn (`LivenessPulse`).
    package static let pulseChannel: UInt16 = 6

    package let settings: ConnectionSettings
    var state: amqp_connection_state_t?
    var openChannels: Set<UInt16> = []
    var confirms: [UInt16: ConfirmTracker] = [:]
    /// Why the broker blocks this connection (connection.blocked, e.g. "low on disk"), while it
    /// does: it reads nothing more from it, so publishes and confirms wait.
    package internal(set) var blockedReason: String?
    /// A basic.return read before its confirm: the publish failed (reported with the confirm).
    var returnedMessage: String?
    /// Work-channel events the frame router read, handed out by `nextEvent` in order.
    var stashed: [ConsumerEvent] = []
    var assembler = DeliveryAssembler(channel: AMQPConnection.workChannel)
    /// Publishes queued by `publishQueued`, written before anything else is sent or read.
    var outgoing = PublishFrames()

    /// The address this connection went to (one of `settings.addresses`) and its position.
    package private(set) var address: BrokerAddress
    package private(set) var addressIndex: Int
    /// The channels opened as the connection is made (`init`'s `channels`).
    private let initialChannels: [UInt16]

    /// The channels most users need at once: the work channel and the publish channel.
    package static let workAndPublish: [UInt16] = [workChannel, publishChannel]

    /// Connects, logs in and opens `channels` (by default the work and publish channels), trying
    /// every address of `settings` in turn from `firstAddress` on (by default the settings'
    /// `startAddress`). A connection that only consumes, or only publishes, opens only the channel
    /// it uses: each channel is a few processes on the broker, paid by every processor's start.
    /// Access refused by any broker is final; otherwise, when none answers, the error names each
    /// address and what it said.
    package init(settings: ConnectionSettings, firstAddress: Int? = nil, channels: [UInt16] = workAndPublish) throws(WorkQueueError) {
        self.settings = settings
        self.initialChannels = channels
        let firstAddress = firstAddress ?? settings.startAddress
        let addresses = settings.addresses
        self.addressIndex = firstAddress % addresses.count
        self.address = addresses[addressIndex]
        var failures: [WorkQueueError] = []
        for offset in 0..<addresses.count {
            addressIndex = (firstAddress + offset) % addresses.count
            address = addresses[addressIndex]
            do {
                try open()
                return
            } catch let error where error.kind == .unavailable || error.kind == .connectionLost {
                failures.append(error)
            }
        }
        if failures.count == 1 { throw failures[0] }
        throw WorkQueueError(.unavailable, "no broker answered: ", joining: failures)
    }

    deinit { close() }

    /// "host:port" of the broker this connection went to, for messages.
    package var endpoint: String { address.description }

    /// Where this connection went, for a first log line: "host:port", and which of several
    /// addresses it is ("host:port (address 2 of 3)").
    package var whereConnected: String {
        let count = settings.addresses.count
        return count > 1 ? "\(endpoint) (address \(addressIndex + 1) of \(count))" : endpoint
    }

    /// Where a reconnect after losing this connection starts: the next broker address (the lost
    /// one may be down).
    package var nextAddressIndex: Int { (addressIndex + 1) % settings.addresses.count }

    /// Seconds an RPC (declare, consume, qos, ...) may wait for its answer before the
    /// connection is given up as lost: a broker that keeps TCP open but never answers.
    package static let rpcTimeout: Duration = .seconds(30)

    /// The negotiated heartbeat in seconds (0: off).
    package var heartbeat: Int {
        guard let state else { return 0 }
        return Int(amqp_get_heartbeat(state))
    }

    /// The broker's version as it announced it in connection.start ("3.10.8"), nil if it did not.
    package var serverVersion: String? {
        guard let state, let properties = amqp_get_server_properties(state) else { return nil }
        guard case .string(let version) = AMQPTable.read(properties.pointee)["version"] else { return nil }
        return version
    }

    /// The socket, for `poll(2)` together with other descriptors; -1 when closed.
    package var socketDescriptor: Int32 {
        guard let state else { return -1 }
        return amqp_get_sockfd(state)
    }

    /// True when frames are already read or queued, so waiting on the socket would miss them.
    package var hasBufferedInput: Bool {
        guard let state else { return false }
        return !stashed.isEmpty || amqp_data_in_buffer(state) != 0 || amqp_frames_enqueued(state) != 0
    }

    private func open() throws(WorkQueueError) {
        guard let state = amqp_new_connection() else { throw WorkQueueError.failure("connect: out of memory") }
        self.state = state
        do {
            try connectSocket(state)
            var handshake = timeval(settings.connectTimeout)
            _ = amqp_set_handshake_timeout(state, &handshake)
            let reply = wq_amqp_login_plain(
                state, settings.vhost, 131_072, Int32(settings.heartbeat), settings.user, settings.password.value,
                settings.clientName)
            try checkLogin(reply)
            var rpc = timeval(Self.rpcTimeout)
            _ = amqp_set_rpc_timeout(state, &rpc)
            for channel in initialChannels { try openChannel(channel) }
        } catch {
            close()
            throw error
        }
    }

    private func connectSocket(_ state: amqp_connection_state_t) throws(WorkQueueError) {
        let socket: OpaquePointer?
        if settings.useTLS {
            socket = amqp_ssl_socket_new(state)
            guard let socket else { throw WorkQueueError.failure("connect: cannot create a TLS socket") }
            amqp_ssl_socket_set_verify_peer(socket, settings.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, settings.verifyPeer ? 1 : 0)
            if let path = settings.caCertPath {
                let status = amqp_ssl_socket_set_cacert(socket, path)
                guard status == AMQP_STATUS_OK.rawValue else {
                    throw WorkQueueError(.usage, "\(path): not a usable PEM certificate file", remedy: .checkCACertificateFile)
                }
            }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else { throw WorkQueueError.failure("connect: cannot create a socket") }
        var timeout = timeval(settings.connectTimeout)
        let status = amqp_socket_open_noblock(socket, address.host, Int32(address.port), &timeout)
        try AMQPStatus.check(status, "connect", endpoint: endpoint, connecting: true)
        // Work commands must not inherit the broker socket: a command outliving a killed
        // processor would keep the connection, and its items, alive.
        let fd = amqp_get_sockfd(state)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC) }
    }

    /// Only the broker's explicit refusal is "access refused" (exit 77): rabbitmq-c announces
    /// `authentication_failure_close`, so RabbitMQ answers a bad login with connection.close 403.
    /// A socket closed or silent during the handshake is a network fault: worth another try.
    private func checkLogin(_ reply: amqp_rpc_reply_t) throws(WorkQueueError) {
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            let status = AMQPStatus.libraryStatus(reply)
            if status == AMQP_STATUS_TIMEOUT.rawValue { throw AMQPStatus.error(status: status, "login", endpoint: endpoint, connecting: true) }
            let text = String(cString: amqp_error_string2(status))
            throw WorkQueueError(.unavailable, "login: the connection to the broker at \(endpoint) failed during the handshake (\(text))")
        }
        try AMQPStatus.check(reply, "login", endpoint: endpoint, connecting: true)
    }

    /// Opens (or re-opens) a channel.
    func openChannel(_ channel: UInt16) throws(WorkQueueError) {
        let state = try live("channel.open")
        _ = amqp_channel_open(state, channel)
        try AMQPStatus.check(amqp_get_rpc_reply(state), "channel.open", endpoint: endpoint)
        openChannels.insert(channel)
        confirms[channel] = nil
    }

    /// Closes the connection politely if it still works, and frees it. Safe to call twice.
    package func close() {
        guard let state else { return }
        self.state = nil
        // A blocked connection is not read by the broker: its close-ok would never come.
        if !openChannels.isEmpty && blockedReason == nil {
            if outgoing.isEmpty || writeOutgoing(state) == nil { _ = amqp_connection_close(state, 200) }
        }
        outgoing.discard()
        openChannels.removeAll()
        _ = amqp_destroy_connection(state)
    }

    /// Drops the connection without a goodbye (after it was lost).
    package func abandon() {
        openChannels.removeAll()
        close()
    }

    /// The live state, or an error when the connection was closed. Publishes still queued
    /// (`publishQueued`) are written first, so that every frame leaves in order whichever call
    /// sends or reads next.
    func live(_ what: String) throws(WorkQueueError) -> amqp_connection_state_t {
        guard let state else {
            throw WorkQueueError(.connectionLost, "\(what): connection to \(endpoint) is closed")
        }
        if !outgoing.isEmpty { try flushQueuedPublishes(state) }
        return state
    }

    /// Converts a library status into an error and marks the connection as lost when it is.
    func fail(status: Int32, _ what: String) -> WorkQueueError {
        let error = AMQPStatus.error(status: status, what, endpoint: endpoint)
        if error.kind == .connectionLost { abandon() }
        return error
    }

    /// Answers a channel.close from the broker and forgets the channel; returns the broker's reason.
    func acceptChannelClose(_ method: amqp_method_t, channel: UInt16, _ what: String) -> WorkQueueError {
        if let state {
            var closeOK = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOK)
        }
        openChannels.remove(channel)
        return AMQPStatus.serverError(method, what, endpoint: endpoint)
    }

    /// Checks an RPC reply; a closed channel is re-opened so the connection stays usable.
    func check(_ reply: amqp_rpc_reply_t, _ what: String, channel: UInt16) throws(WorkQueueError) {
        guard reply.reply_type != AMQP_RESPONSE_NORMAL else { return }
        if AMQPStatus.channelCloseCode(reply) != nil {
            let error = acceptChannelClose(reply.reply, channel: channel, what)
            try? openChannel(channel)
            throw error
        }
        do {
            try AMQPStatus.check(reply, what, endpoint: endpoint)
        } catch {
            if error.kind == .connectionLost { abandon() }
            throw error
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let parts = max(duration, .zero).components
        self.init(tv_sec: Int(parts.seconds), tv_usec: Int(parts.attoseconds / 1_000_000_000_000))
    }
}
