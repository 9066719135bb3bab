/// Latency samples in milliseconds and their percentiles.
public struct LatencySamples: Sendable {
    public private(set) var values: [Double] = []

    public init() {}

    public mutating func add(_ milliseconds: Double) { values.append(milliseconds) }

    public var count: Int { values.count }

    /// The nearest-rank percentile (`p` in 0...100); nil without samples.
    public func percentile(_ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
