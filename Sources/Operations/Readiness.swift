/// One readiness condition and why it holds or not.
public struct ReadinessCheck: Sendable, Hashable, Codable {
    public var name: String
    public var ok: Bool
    public var detail: String

    public init(name: String, ok: Bool, detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }
}

/// The answer of `/readyz`: ready when every check holds.
public struct ReadinessReport: Sendable, Hashable, Codable {
    public var ready: Bool
    public var checks: [ReadinessCheck]

    public init(checks: [ReadinessCheck]) {
        self.checks = checks
        self.ready = checks.allSatisfy(\.ok)
    }
}

/// Runs the readiness checks concurrently; each check bounds its own wait.
public struct ReadinessProbe: Sendable {
    public typealias Check = @Sendable () async -> ReadinessCheck
    private let checks: [Check]

    public init(checks: [Check]) {
        self.checks = checks
    }

    public func report() async -> ReadinessReport {
        let results = await withTaskGroup(of: (Int, ReadinessCheck).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask { (index, await check()) }
            }
            var results: [(Int, ReadinessCheck)] = []
            for await result in group { results.append(result) }
            return results
        }
        return ReadinessReport(checks: results.sorted { $0.0 < $1.0 }.map(\.1))
    }
}
