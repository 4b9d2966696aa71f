#if canImport(Glibc)
import Glibc
#endif
import Core

/// Blocking sleeps for the synchronous tools.
package enum Sleep {
    package static func `for`(_ duration: Duration) {
        guard duration > .zero else { return }
        let parts = duration.components
        var request = timespec(tv_sec: Int(parts.seconds), tv_nsec: Int(parts.attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
