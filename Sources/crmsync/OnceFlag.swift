import Kafka

/// A flag that can be claimed once, from any thread.
final class OnceFlag: Sendable {
    private let claimed = Locked(false)
    /// Whether ``claim()`` has been called.
    var isClaimed: Bool { claimed.withLock { $0 } }

    func claim() -> Bool {
        claimed.withLock { value in
            if value { return false }
            value = true
            return true
        }
    }
}
