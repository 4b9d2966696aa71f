import Core

/// The origin of the instants these tests make up.
let testOrigin = ContinuousClock.now

/// The instant `seconds` after `testOrigin`: times in tests read as plain numbers.
func at(_ seconds: Double) -> Instant { testOrigin + .seconds(seconds) }
