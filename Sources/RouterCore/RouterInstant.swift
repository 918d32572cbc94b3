// RadixServe: injected time for the router's pure state.

/// A point in time on the router's monotonic clock, in nanoseconds from an arbitrary origin.
///
/// RouterCore never reads a clock: callers pass `now` (from `ContinuousClock` in production,
/// from a counter in tests), so every timeout is deterministic under test.
package struct RouterInstant: Hashable, Comparable, Sendable {
    /// Nanoseconds since the clock's origin.
    package var nanoseconds: Int64

    /// Creates an instant `nanoseconds` after the origin.
    package init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// An instant `seconds` after the origin (convenient in tests).
    package static func seconds(_ seconds: Double) -> Self { Self(nanoseconds: Int64(seconds * 1e9)) }

    /// This instant moved by `duration`.
    package func advanced(by duration: Duration) -> Self {
        let (seconds, attoseconds) = duration.components
        return Self(nanoseconds: nanoseconds &+ seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
    }

    /// The time from `earlier` to `self`, in seconds (negative if `earlier` is later).
    package func seconds(since earlier: Self) -> Double { Double(nanoseconds &- earlier.nanoseconds) / 1e9 }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
