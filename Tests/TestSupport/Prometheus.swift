import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Prometheus server of the test's own (Debian's `prometheus`): its own port, data directory and
/// configuration, scraping the given targets every second. Stopped by `stop()` (and by the
/// scenario's cleanup, as it is started through it).
package final class PrometheusServer {
    package let port: Int
    private let process: RunningCommand

    /// Starts Prometheus scraping `targets` (host:port) as job `job` every `interval` seconds, and
    /// waits until it is ready. A missing `prometheus` fails the test with what installs it.
    package init(scenario: Scenario, job: String, targets: [String], interval: Int = 1) throws {
        let binary = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/prometheus" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else { throw TestFailure("prometheus is not in PATH; scripts/install-deps installs it (Debian package prometheus)") }
        port = try freePort()
        let config = scenario.path("prometheus.yml")
        let targetList = targets.map { "'\($0)'" }.joined(separator: ", ")
        try """
            global:
              scrape_interval: \(interval)s
              scrape_timeout: \(interval)s
              evaluation_interval: \(interval)s
            scrape_configs:
              - job_name: '\(job)'
                static_configs:
                  - targets: [\(targetList)]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let data = scenario.path("prometheus-data")
        process = try Command(
            binary,
            [
                "--config.file=\(config)", "--storage.tsdb.path=\(data)", "--web.listen-address=127.0.0.1:\(port)",
                "--log.level=warn", "--storage.tsdb.retention.time=1h",
            ], timeout: 600
        ).start()
        scenario.adopt(process)
        try waitUntil("Prometheus on 127.0.0.1:\(port) to be ready (\(process.tail(lines: 5)))", timeout: 30) {
            (try? HTTP.get(port: self.port, path: "/-/ready"))?.status == 200
        }
    }

    /// The result of an instant query: each series' labels and value.
    package func query(_ promQL: String) throws -> [(labels: [String: String], value: Double)] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = promQL.addingPercentEncoding(withAllowedCharacters: allowed) ?? promQL
        let response = try HTTP.get(port: port, path: "/api/v1/query?query=\(encoded)")
        guard response.status == 200,
            let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
            let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else { throw TestFailure("Prometheus query \(promQL) answered \(response.status): \(response.body)") }
        return result.map { series in
            let labels = series["metric"] as? [String: String] ?? [:]
            let value = (series["value"] as? [Any])?.last.flatMap { $0 as? String }.flatMap(Double.init) ?? .nan
            return (labels, value)
        }
    }

    /// The single value of `promQL`; nil when it has no series.
    package func value(_ promQL: String) throws -> Double? {
        try query(promQL).first?.value
    }

    package func stop() {
        process.signal(SIGTERM)
        _ = try? process.wait(timeout: 10)
    }
}

/// A free TCP port on 127.0.0.1 (bound to 0, read back, closed).
package func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestFailure("no free port: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A plain HTTP/1.0 GET to 127.0.0.1 for the tests (HTTP/1.0: no chunked answers to decode).
package enum HTTP {
    package struct Response {
        package var status: Int
        package var headers: String
        package var body: String
    }

    package static func get(port: Int, path: String, headers: [String: String] = [:], timeout: Int = 5) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw TestFailure("GET 127.0.0.1:\(port)\(path): cannot connect (errno \(errno))") }
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\(extra)\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { break }
            guard n > 0 else { throw TestFailure("GET 127.0.0.1:\(port)\(path): no whole answer within \(timeout) s") }
            bytes += buffer[0..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
            throw TestFailure("GET 127.0.0.1:\(port)\(path): not an HTTP answer: \(text.prefix(200))")
        }
        return Response(status: status, headers: String(text[..<split.lowerBound]), body: String(text[split.upperBound...]))
    }
}
