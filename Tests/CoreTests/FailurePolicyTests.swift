import Testing

import Core

@Suite("The failure policy: attempts counted in a header, retried until the last, then dead-lettered")
struct FailurePolicyTests {
    @Test("a failed item is retried until the last attempt, then dead-lettered")
    func failurePolicy() {
        let policy = FailurePolicy(maxAttempts: 3)
        #expect(FailurePolicy.attempt(of: [:]) == 1)
        #expect(FailurePolicy.attempt(of: ["x-attempts": .int(2)]) == 2)
        #expect(FailurePolicy.attempt(of: ["x-attempts": .string("3")]) == 3)
        #expect(policy.outcome(afterFailedAttempt: 1) == .retry(nextAttempt: 2))
        #expect(policy.outcome(afterFailedAttempt: 2) == .retry(nextAttempt: 3))
        #expect(policy.outcome(afterFailedAttempt: 3) == .deadLetter(attempts: 3))
        #expect(FailurePolicy(maxAttempts: 1).outcome(afterFailedAttempt: 1) == .deadLetter(attempts: 1))
    }
}
