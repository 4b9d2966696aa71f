#if canImport(Glibc)
import Glibc
#endif

/// Blocking sleeps for the synchronous tools.
package enum Sleep {
    package static func seconds(_ value: Double) {
        var request = timespec(tv_sec: Int(value), tv_nsec: Int((value - Double(Int(value))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
