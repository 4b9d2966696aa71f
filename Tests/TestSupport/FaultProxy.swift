import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy between the clients under test and a broker, on 127.0.0.1, that can fail the way
/// networks do: `forward` copies bytes both ways; `blackhole` stops copying in both directions and
/// closes nothing (a partition without RST: only heartbeats can tell), and connections accepted
/// meanwhile are not passed on (their handshake gets no answer); `resetAll()` closes every
/// connection at once with RST (a restarted load balancer, a dropped NAT entry).
package final class FaultProxy: @unchecked Sendable {
    // @unchecked: the mode and the connection list are guarded by `lock`; each copier thread
    // owns its two descriptors' direction.
    package enum Mode: Sendable {
        case forward
        case blackhole
    }

    /// One proxied connection; the last of its two copier threads closes both descriptors.
    // @unchecked: `finished` and `reset` are read and written only under the proxy's lock.
    private final class Pair: @unchecked Sendable {
        let client: Int32
        let upstream: Int32
        var finished = 0
        var reset = false

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }
    }

    package let port: Int
    private let target: Int
    private let listener: Int32
    private let lock = NSLock()
    private var currentMode = Mode.forward
    private var pairs: [Pair] = []
    /// Clients accepted during a blackhole, waiting for `forward` before the proxy connects on.
    private var waitingClients: Set<Int32> = []
    private var stopped = false

    /// Listens on an ephemeral port of 127.0.0.1 and forwards to 127.0.0.1:`target`.
    package init(target: Int) throws {
        self.target = target
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("proxy: socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw TestFailure("proxy: cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// What the proxy does with bytes now.
    package var mode: Mode {
        get { lock.withLock { currentMode } }
        set { lock.withLock { currentMode = newValue } }
    }

    /// Connections open now.
    package var openConnections: Int { lock.withLock { pairs.count } }

    /// Connections accepted during a blackhole, held without an answer to their handshake.
    package var heldConnections: Int { lock.withLock { waitingClients.count } }

    /// Closes every open connection with RST, both sides; the proxy keeps listening.
    package func resetAll() {
        let (all, waiting) = lock.withLock { () -> ([Pair], Set<Int32>) in
            for pair in pairs { pair.reset = true }
            defer { waitingClients.removeAll() }
            return (pairs, waitingClients)
        }
        for pair in all {
            for fd in [pair.client, pair.upstream] {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                // Wakes the copier blocked in read without sending FIN; its close sends RST.
                shutdown(fd, Int32(SHUT_RD))
            }
        }
        // Their handshake is cut: RST now (the waiting thread sees it gone and stops).
        for client in waiting {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(client)
        }
    }

    /// Stops listening and resets every connection.
    package func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        resetAll()
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    /// Waits for `forward` (a blackhole swallows the connection attempt), connects upstream and
    /// copies both ways until either side closes or `resetAll` closes both.
    private func serve(_ client: Int32) {
        lock.withLock { _ = waitingClients.insert(client) }
        while mode == .blackhole && !lock.withLock({ stopped }) && lock.withLock({ waitingClients.contains(client) }) { usleep(10_000) }
        // Reset while waiting: resetAll closed it already.
        guard lock.withLock({ waitingClients.remove(client) != nil }) else { return }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: target)
        let connected = upstream >= 0 && withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        guard connected, !lock.withLock({ stopped }) else {
            close(client)
            if upstream >= 0 { close(upstream) }
            return
        }
        let pair = Pair(client: client, upstream: upstream)
        lock.withLock { pairs.append(pair) }
        Thread.detachNewThread { [self] in copy(pair, from: upstream, to: client) }
        copy(pair, from: client, to: upstream)
    }

    private func copy(_ pair: Pair, from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        loop: while true {
            // A blackhole stops reading: the sender's bytes stay in its socket buffers.
            while mode == .blackhole && !lock.withLock({ pair.reset }) { usleep(10_000) }
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0, !lock.withLock({ pair.reset }) else { break }
            var sent = 0
            while sent < n {
                let w = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { break loop }
                sent += w
            }
        }
        let (last, reset) = lock.withLock { () -> (Bool, Bool) in
            pair.finished += 1
            if pair.finished == 2 { pairs.removeAll { $0 === pair } }
            return (pair.finished == 2, pair.reset)
        }
        // A plain relay passes the end on (FIN) and wakes the other direction's copier.
        if !reset { shutdown(destination, Int32(SHUT_WR)); shutdown(source, Int32(SHUT_RD)) }
        if last {
            close(pair.client)
            close(pair.upstream)
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
