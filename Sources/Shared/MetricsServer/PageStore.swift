import Core
import Platform
import Synchronization

/// The latest metrics pages, handed from the collector (which renders them once per interval) to
/// the HTTP side (which only copies them out): a scrape never waits for the collector, and the
/// collector waits for a scrape only as long as a copy of a pointer takes.
package final class PageStore: Sendable {
    private struct Pages: Sendable {
        var text = ""
        var openMetrics = "# EOF\n"
        /// When (monotonic) the collector last published; nil before it did.
        var published: Instant?
    }

    private let pages = Mutex(Pages())
    /// Silence from the collector after which /healthz says it is stuck.
    package let stuckAfter: Duration

    package init(stuckAfter: Duration) {
        self.stuckAfter = stuckAfter
    }

    /// The collector's latest pages, published at monotonic `time`.
    package func publish(text: String, openMetrics: String, at time: Instant) {
        pages.withLock { $0 = Pages(text: text, openMetrics: openMetrics, published: time) }
    }

    /// The page in `format`.
    package func page(_ format: ExpositionFormat) -> String {
        pages.withLock { format == .openMetrics ? $0.openMetrics : $0.text }
    }

    /// Nil while the collector publishes, else why not (it never did, or has been silent too long).
    package func problem(at time: Instant) -> String? {
        guard let published = pages.withLock({ $0.published }) else { return "the collector has not published a page yet" }
        let silent = time - published
        return silent > stuckAfter ? "the collector has been silent for \(Int(silent.inSeconds)) s" : nil
    }
}
