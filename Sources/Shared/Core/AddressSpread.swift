/// Where a client starts in a list of broker addresses, so that a Job's many clients spread over
/// a cluster's nodes instead of all landing on the first. After the start, failover goes on in
/// list order (the next address, and round).
package enum AddressSpread {
    /// The start for `count` addresses: a Kubernetes Indexed Job's completion index spreads its
    /// pods exactly (index modulo count); without one, `random` picks one at random.
    package static func start(count: Int, completionIndex: Int?, random: (Int) -> Int = { Int.random(in: 0..<$0) }) -> Int {
        guard count > 1 else { return 0 }
        if let completionIndex, completionIndex >= 0 { return completionIndex % count }
        return random(count)
    }
}
