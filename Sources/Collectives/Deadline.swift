// Absolute deadline for one collective call.

/// The end of a call's time budget; every blocking step waits at most ``remaining``.
struct Deadline {
    let end: ContinuousClock.Instant
    let budget: Duration

    init(_ budget: Duration) {
        self.budget = budget
        self.end = .now + budget
    }

    /// Time left, never negative (zero means "check without blocking").
    var remaining: Duration { max(.zero, end - .now) }

    var budgetSeconds: Double {
        let (seconds, attoseconds) = budget.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
