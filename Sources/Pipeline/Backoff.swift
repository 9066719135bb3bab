/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
/// Jitter"): attempt n waits a uniformly random time in [0, min(cap, base · 2ⁿ)].
/// Full jitter spreads retries of many partitions so they don't hammer a recovering
/// dependency in lockstep.
public struct Backoff: Sendable, Hashable {
    public var baseMilliseconds: UInt64
    public var capMilliseconds: UInt64

    public init(baseMilliseconds: UInt64 = 100, capMilliseconds: UInt64 = 30_000) {
        self.baseMilliseconds = max(1, baseMilliseconds)
        self.capMilliseconds = max(self.baseMilliseconds, capMilliseconds)
    }

    /// The upper bound of the wait before retry number `attempt` (0-based).
    public func ceiling(attempt: Int) -> UInt64 {
        let shift = UInt64(min(max(attempt, 0), 40))
        let (grown, overflow) = baseMilliseconds.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? capMilliseconds : min(capMilliseconds, grown)
    }

    /// A wait for retry number `attempt`, drawn with `generator`.
    public func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> UInt64 {
        UInt64.random(in: 0...ceiling(attempt: attempt), using: &generator)
    }

    public func delay(attempt: Int) -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
