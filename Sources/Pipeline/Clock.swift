import CRMModel
import Foundation

/// Where "now" comes from: the wall clock in production, a fixed or stepping clock in tests.
public struct Clock: Sendable {
    public let now: @Sendable () -> Timestamp

    public init(now: @escaping @Sendable () -> Timestamp) {
        self.now = now
    }

    public static let system = Clock {
        Timestamp(epochMilliseconds: Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)))
    }
}
