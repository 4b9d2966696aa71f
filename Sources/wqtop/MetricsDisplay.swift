#if canImport(Glibc)
import Glibc
#endif
import Core
import MetricsServer
import Monitor
import Platform

/// `--serve`: each frame becomes the metrics pages (both formats, rendered once per interval on
/// the collector's thread) that the HTTP server hands out; frames also go to `frames` (--json)
/// when given. The broker link's changes are logged, one line each, for `kubectl logs`.
final class MetricsDisplay: MonitorDisplay {
    private let pages: PageStore
    private let server: MetricsServer
    private let frames: MonitorDisplay?
    /// The broker link's problem last logged (nil: connected), once the first frame was shown.
    private var logged: (problem: String?, once: Bool) = (nil, false)

    init(address: ListenAddress, interval: Duration, frames: MonitorDisplay?) throws {
        // /healthz fails when no page came for 10 intervals, at least 60 s: longer than the loop
        // may wait on a broker that went silent (a sample's RPC 30 s, then a connect 10 s).
        pages = PageStore(stuckAfter: max(.seconds(60), interval * 10))
        server = try MetricsServer(address: address, pages: pages)
        self.frames = frames
        let shown = ListenAddress(host: address.host == "0.0.0.0" ? "localhost" : address.host, port: server.port)
        Log.write("wqtop: serving metrics on http://\(shown.description)/metrics", to: STDERR_FILENO)
    }

    var inputDescriptor: Int32? { nil }

    func show(_ snapshot: MonitorSnapshot, time: Double) {
        let page = MetricsPage(snapshot: snapshot)
        pages.publish(text: page.render(.text), openMetrics: page.render(.openMetrics), at: MonotonicClock.now())
        if !logged.once || logged.problem != snapshot.connectionProblem {
            if let problem = snapshot.connectionProblem {
                Log.write("wqtop: \(problem)", to: STDERR_FILENO)
            } else if logged.once {
                Log.write("wqtop: connected to \(snapshot.endpoint)", to: STDERR_FILENO)
            }
            logged = (snapshot.connectionProblem, true)
        }
        frames?.show(snapshot, time: time)
    }

    func handleInput(latest: MonitorSnapshot?) -> Bool { true }

    func close() { server.close() }
}
