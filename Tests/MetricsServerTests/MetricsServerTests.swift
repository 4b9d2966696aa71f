import Core
import Foundation
import MetricsServer
import Platform
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A server on a free port of 127.0.0.1 with a page published.
private func serving(requestTimeout: Duration = .seconds(10), maxConnections: Int = 512) throws -> (MetricsServer, PageStore) {
    let pages = PageStore(stuckAfter: .seconds(30))
    let server = try MetricsServer(
        address: ListenAddress(host: "127.0.0.1", port: 0), pages: pages, requestTimeout: requestTimeout, maxConnections: maxConnections)
    pages.publish(text: "# TYPE up_total counter\nup_total 1\n", openMetrics: "# TYPE up counter\nup_total 1\n# EOF\n", at: MonotonicClock.now())
    return (server, pages)
}

@Suite("wqtop --serve's HTTP side: pages, health and bad requests")
struct MetricsServerTests {
    @Test("GET /metrics serves the text format, or OpenMetrics when the Accept header asks for it (as Prometheus does)")
    func servesBothFormats() throws {
        let (server, _) = try serving()
        defer { server.close() }
        let text = try get("/metrics", port: server.port)
        #expect(text.hasPrefix("HTTP/1.1 200 OK"), "\(text)")
        #expect(text.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), "\(text)")
        #expect(text.hasSuffix("up_total 1\n"), "\(text)")
        let accept = "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
        let open = try get("/metrics", port: server.port, headers: accept)
        #expect(open.contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"), "\(open)")
        #expect(open.hasSuffix("# EOF\n"), "\(open)")
    }

    @Test("/healthz is 503 until the collector published a page and while it is silent too long, else 200")
    func health() throws {
        let pages = PageStore(stuckAfter: .milliseconds(300))
        let server = try MetricsServer(address: ListenAddress(host: "127.0.0.1", port: 0), pages: pages)
        defer { server.close() }
        #expect(try get("/healthz", port: server.port).hasPrefix("HTTP/1.1 503"))
        pages.publish(text: "", openMetrics: "# EOF\n", at: MonotonicClock.now())
        let ok = try get("/healthz", port: server.port)
        #expect(ok.hasPrefix("HTTP/1.1 200") && ok.hasSuffix("ok\n"), "\(ok)")
        usleep(500_000)
        let stuck = try get("/healthz", port: server.port)
        #expect(stuck.hasPrefix("HTTP/1.1 503") && stuck.contains("silent"), "\(stuck)")
    }

    @Test("an unknown path is 404, another method 405 with Allow, HEAD has headers only")
    func wrongRequests() throws {
        let (server, _) = try serving()
        defer { server.close() }
        #expect(try get("/nope", port: server.port).hasPrefix("HTTP/1.1 404"))
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        let post = client.readToClose() ?? ""
        #expect(post.hasPrefix("HTTP/1.1 405") && post.contains("Allow: GET, HEAD"), "\(post)")
        let head = try RawClient(port: server.port)
        defer { head.close() }
        head.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let headResponse = head.readToClose() ?? ""
        #expect(headResponse.hasPrefix("HTTP/1.1 200") && headResponse.hasSuffix("\r\n\r\n"), "\(headResponse)")
    }

    @Test("garbage bytes get 400 and the connection closed; the next scrape is served")
    func garbage() throws {
        let (server, _) = try serving()
        defer { server.close() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send(bytes: [0x00, 0xff, 0x13, 0x37] + Array("\r\n\r\nGET / HTTP/1.1\r\n\r\n".utf8))
        let response = client.readToClose()
        #expect(response != nil, "the connection was left open")
        #expect(response?.isEmpty == true || response?.hasPrefix("HTTP/1.1 400") == true, "\(response ?? "")")
        #expect(try get("/metrics", port: server.port).hasPrefix("HTTP/1.1 200"))
    }

    @Test("a client that never finishes its request is closed after the request timeout, and others are served meanwhile")
    func slowClient() throws {
        let (server, _) = try serving(requestTimeout: .milliseconds(800))
        defer { server.close() }
        let slow = try RawClient(port: server.port)
        defer { slow.close() }
        slow.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")
        let started = MonotonicClock.now()
        #expect(try get("/metrics", port: server.port).hasPrefix("HTTP/1.1 200"))
        // Trickling a byte now and then does not keep it open: the timeout counts from the start.
        for _ in 0..<3 {
            usleep(200_000)
            slow.send("X")
        }
        let end = slow.readToClose()
        let waited = MonotonicClock.now() - started
        #expect(end != nil && end?.contains("200 OK") == false, "\(end ?? "no close")")
        #expect(waited >= .milliseconds(700), "closed after \(waited)")
    }

    @Test("100 concurrent scrapes on keep-alive connections are all answered, two requests each")
    func concurrentScrapes() async throws {
        let (server, _) = try serving()
        defer { server.close() }
        let port = server.port
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    let client = try RawClient(port: port)
                    defer { client.close() }
                    var ok = 0
                    for _ in 0..<2 {
                        client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                        if client.readResponse()?.hasPrefix("HTTP/1.1 200") == true { ok += 1 }
                    }
                    return ok
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(answered == 200)
    }

    @Test("past the connection limit new connections are closed at once; those below it are served")
    func connectionLimit() throws {
        let (server, _) = try serving(maxConnections: 3)
        defer { server.close() }
        let held = try (0..<3).map { _ in try RawClient(port: server.port) }
        defer { held.forEach { $0.close() } }
        usleep(100_000)
        let extra = try RawClient(port: server.port)
        defer { extra.close() }
        extra.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(extra.readToClose() == "")
        held[0].send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(held[0].readResponse()?.hasPrefix("HTTP/1.1 200") == true)
    }

    @Test("a Connection: close client that never reads a large page is closed after the request timeout (review finding)")
    func nonReadingCloseClientIsClosed() throws {
        // A page far larger than the sockets' buffers: its write cannot complete while the client reads nothing.
        let pages = PageStore(stuckAfter: .seconds(30))
        let big = String(repeating: "workqueue_pod_items_processed_total{queue=\"q\",pod=\"p\"} 1\n", count: 200_000)
        pages.publish(text: big, openMetrics: big + "# EOF\n", at: MonotonicClock.now())
        let server = try MetricsServer(
            address: ListenAddress(host: "127.0.0.1", port: 0), pages: pages, requestTimeout: .milliseconds(300))
        defer { server.close() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        client.send("GET /metrics HTTP/1.0\r\n\r\n")
        // Read nothing for well past the request timeout: the server should give up on this client.
        usleep(2_000_000)
        let received = client.readToClose() ?? ""
        // Closed early: less than the whole page arrived. (Today the whole page arrives: the connection,
        // and its copy of the page, are held for as long as the client cares to stall.)
        #expect(received.utf8.count < big.utf8.count, "the server held a stalled Connection: close client past the request timeout")
    }

    @Test("a port in use is an unavailable error (exit 69) that says so")
    func portInUse() throws {
        let (server, _) = try serving()
        defer { server.close() }
        #expect {
            try MetricsServer(address: ListenAddress(host: "127.0.0.1", port: server.port), pages: PageStore(stuckAfter: .seconds(1)))
        } throws: { error in
            guard let error = error as? WorkQueueError else { return false }
            return error.exitCode == 69 && error.message.contains("in use") && error.message.contains("127.0.0.1:\(server.port)")
        }
    }
}
