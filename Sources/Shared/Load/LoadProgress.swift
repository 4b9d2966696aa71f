#if canImport(Glibc)
import Glibc
#endif
import Core
import Platform

/// The loader's progress: a line per item for small loads (like the original), otherwise a
/// progress line once a second (rewritten in place on a terminal).
final class LoadProgress {
    private let log: Log
    private let perItem: Bool
    private let tty: Bool
    private var lastShown = MonotonicClock.now()
    private var shownInPlace = false

    /// Loads up to this many items log each item.
    static let perItemLimit = 100

    init(log: Log, knownTotal: Int?) {
        self.log = log
        self.perItem = (knownTotal ?? Int.max) <= Self.perItemLimit
        self.tty = isatty(STDERR_FILENO) == 1
    }

    func published(item: [UInt8], count: Int, confirmed: Int) {
        guard !log.quiet else { return }
        if perItem {
            log.info("loading data: \(String(decoding: item.prefix(200), as: UTF8.self))")
            return
        }
        show("loading data: \(count) items published, \(confirmed) confirmed")
    }

    /// The progress line while the broker blocks publishing (shown even for small loads).
    func blocked(_ reason: String, confirmed: Int) {
        guard !log.quiet else { return }
        show("loading data: blocked by the broker (\(reason)), \(confirmed) confirmed so far")
    }

    /// At most once a second: rewritten in place on a terminal, else a log line.
    private func show(_ line: String) {
        let now = MonotonicClock.now()
        guard now - lastShown >= .seconds(1) else { return }
        lastShown = now
        if tty {
            Log.writeRaw("\r\u{1B}[K" + line, to: STDERR_FILENO)
            shownInPlace = true
        } else {
            log.info(line)
        }
    }

    /// Ends a line rewritten in place, so that a log line can follow.
    func interrupt() {
        if shownInPlace { Log.writeRaw("\n", to: STDERR_FILENO) }
        shownInPlace = false
    }

    func finish() {
        if shownInPlace { Log.writeRaw("\r\u{1B}[K", to: STDERR_FILENO) }
    }
}
