import Foundation

/// Failed sign-ins counted per user name and per client address: after `limit` failures within
/// `window` either key is refused (429) until its oldest failure leaves the window, so guessing
/// passwords costs minutes, not milliseconds, whichever of the two an attacker varies.
public actor SignInThrottle {
    /// How many failures within how long (policy as data; the console uses ``standard``).
    public struct Policy: Sendable, Hashable {
        public var limit: Int
        public var window: TimeInterval

        public init(limit: Int, window: TimeInterval) {
            self.limit = limit
            self.window = window
        }

        /// 5 failures per 5 minutes.
        public static let standard = Policy(limit: 5, window: 300)
    }

    public enum Key: Hashable, Sendable {
        case user(String)
        case address(String)
    }

    private let policy: Policy
    private var failures: [Key: [Date]] = [:]

    public init(policy: Policy = .standard) {
        self.policy = policy
    }

    /// Seconds until `keys` may try again; nil when none of them is over the limit.
    public func retryAfter(_ keys: [Key], now: Date = Date()) -> Int? {
        var wait: TimeInterval = 0
        for key in keys {
            let recent = prune(key, now: now)
            if recent.count >= policy.limit, let oldest = recent.first {
                wait = max(wait, oldest.addingTimeInterval(policy.window).timeIntervalSince(now))
            }
        }
        return wait > 0 ? Int(wait.rounded(.up)) : nil
    }

    /// Counts one failed sign-in against every key.
    public func fail(_ keys: [Key], now: Date = Date()) {
        for key in keys { failures[key] = prune(key, now: now) + [now] }
        // Forget keys whose failures all left the window (the map cannot grow without bound).
        if failures.count > 10_000 { failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < policy.window } } }
    }

    /// A correct password clears the user name's failures (not the address's).
    public func succeed(user: String) {
        failures[.user(user)] = nil
    }

    private func prune(_ key: Key, now: Date) -> [Date] {
        let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < policy.window }
        failures[key] = recent.isEmpty ? nil : recent
        return recent
    }
}
