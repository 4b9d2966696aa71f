import Core
import NIOCore
import NIOHTTP1
import NIOPosix
import Platform
import Synchronization

/// `wqtop --serve`'s HTTP side: GET (or HEAD) /metrics and /healthz on one event-loop thread of
/// its own, answering from a `PageStore`; the collector runs on the caller's thread and is never
/// waited for. Malformed requests get NIO's 400 and are closed; a connection that has not sent a
/// whole request within `requestTimeout` (a slow or stalled client) is closed; past
/// `maxConnections` open at once, new ones are closed at once.
package final class MetricsServer: Sendable {
    /// The port listened on (the one the system chose, for port 0).
    package let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// How long a connection may take to send a whole request (after opening or after a response).
    package static let requestTimeout: Duration = .seconds(10)
    package static let maxConnections = 512

    /// Listens on `address`. A port in use, or an address that is not this machine's, is an
    /// `unavailable` error (exit 69) that says so.
    package init(
        address: ListenAddress, pages: PageStore, requestTimeout: Duration = MetricsServer.requestTimeout,
        maxConnections: Int = MetricsServer.maxConnections
    ) throws(WorkQueueError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let open = ConnectionCount(limit: maxConnections)
        let timeout = TimeAmount.nanoseconds(Int64(requestTimeout.roundedUpMilliseconds) * 1_000_000)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(pages: pages, open: open, requestTimeout: timeout))
                }
            }
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            let (kind, reason) = Self.describe(error)
            throw WorkQueueError(kind, "cannot serve metrics on \(address.description): \(reason)")
        }
        self.group = group
        port = channel.localAddress?.port ?? address.port
    }

    /// Stops listening and closes every connection.
    package func close() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// Why binding failed, and whose fault: a host that resolves to nothing is the address's (64),
    /// the rest the machine's (69). NIO throws `SocketAddressError.UnknownHost`, a type of its own.
    private static func describe(_ error: any Error) -> (WorkQueueError.Kind, String) {
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE: return (.unavailable, "the port is in use (another wqtop --serve, or another program, listens there); choose another port")
            case EADDRNOTAVAIL: return (.unavailable, "that address is not one of this machine's; use :PORT to listen on every interface")
            case EACCES: return (.unavailable, "permission denied (ports below 1024 need privileges); choose a port above 1023")
            default: return (.unavailable, "\(io)")
            }
        }
        if error is SocketAddressError || "\(type(of: error))".contains("UnknownHost") {
            return (.usage, "the host does not resolve to an address of this machine; use :PORT or an IP address")
        }
        return (.unavailable, "\(error)")
    }
}

/// Connections open at once, shared by every connection's handler.
final class ConnectionCount: Sendable {
    private let count = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts one more; false (and not counted) past the limit.
    func open() -> Bool {
        if count.wrappingAdd(1, ordering: .relaxed).newValue > limit {
            count.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func close() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }
}
