import Core
import NIOCore
import NIOHTTP1
import Platform

/// One connection's requests: routes each whole request to a response from the `PageStore`.
/// Bodies are ignored; a request must arrive whole within `MetricsServer.requestTimeout` of the
/// connection opening or of the previous response (`requestTimeout`), or the connection is closed.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let pages: PageStore
    private let open: ConnectionCount
    private var counted = false
    private var head: HTTPRequestHead?
    private var deadline: Scheduled<Void>?
    private let requestTimeout: TimeAmount

    init(pages: PageStore, open: ConnectionCount, requestTimeout: TimeAmount) {
        self.pages = pages
        self.open = open
        self.requestTimeout = requestTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        counted = open.open()
        guard counted else {
            context.close(promise: nil)
            return
        }
        armDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if counted { open.close() }
        counted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            deadline?.cancel()
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let route = Self.route(method: head.method, path: path, accept: head.headers["accept"].first, pages: pages)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: route.contentType)
        headers.add(name: "Content-Length", value: String(route.body.utf8.count))
        if let allow = route.allow { headers.add(name: "Allow", value: allow) }
        let keepAlive = head.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: route.status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: route.body.utf8.count)
            buffer.writeString(route.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let channel = context.channel
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        // The response, too, must be taken within the request timeout: a client that stops
        // reading (keep-alive or not) is closed then, with the copy of the page it holds.
        armDeadline(context)
        if !keepAlive {
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// What a request gets: the page, health, 404 for other paths, 405 for other methods.
    static func route(method: HTTPMethod, path: String, accept: String?, pages: PageStore)
        -> (status: HTTPResponseStatus, contentType: String, body: String, allow: String?)
    {
        let plain = "text/plain; charset=utf-8"
        guard path == "/metrics" || path == "/healthz" || path == "/" else {
            return (.notFound, plain, "not found: wqtop serves /metrics and /healthz\n", nil)
        }
        guard method == .GET || method == .HEAD else {
            return (.methodNotAllowed, plain, "method not allowed: use GET\n", "GET, HEAD")
        }
        switch path {
        case "/metrics":
            let format = ExpositionFormat.negotiated(accept: accept)
            return (.ok, format.contentType, pages.page(format), nil)
        case "/healthz":
            if let problem = pages.problem(at: MonotonicClock.now()) { return (.serviceUnavailable, plain, "stuck: \(problem)\n", nil) }
            return (.ok, plain, "ok\n", nil)
        default:
            return (.ok, "text/html; charset=utf-8", "<html><body><a href=\"/metrics\">/metrics</a> <a href=\"/healthz\">/healthz</a></body></html>\n", nil)
        }
    }
}
