import ArgumentParser
import CRMModel
import DeadLetters
import Pipeline

/// `--class`, `--source`, `--since`, `--until`, `--key`.
struct LetterFilterOptions: ParsableArguments {
    @Option(name: .customLong("class"), help: "Error class (crmsync.error.class), e.g. malformed-json, unmapped-value. Repeatable.")
    var errorClasses: [String] = []

    @Option(name: .customLong("source"), help: "Source: crm, map, billing or product. Repeatable.")
    var sources: [String] = []

    @Option(help: "Letters that failed at or after this time (RFC 3339, or an age like 30m, 2h, 7d).")
    var since: String?

    @Option(help: "Letters that failed before this time (RFC 3339, or an age like 30m, 2h, 7d).")
    var until: String?

    @Option(help: "Letters whose original record key is exactly this text.")
    var key: String?

    var isGiven: Bool { !errorClasses.isEmpty || !sources.isEmpty || since != nil || until != nil || key != nil }

    func validate() throws {
        try checkingArguments {
            try checkNames()
            _ = try filter(now: Clock.system.now())
        }
    }

    private func checkNames() throws {
        let knownClasses = Set(EventError.Class.allCases.map(\.rawValue))
        for name in errorClasses where !knownClasses.contains(name) {
            throw CLIFailure.usage("--class: unknown error class \"\(name)\" (one of \(knownClasses.sorted().joined(separator: ", ")))")
        }
        let knownSources = Set(Source.allCases.map(\.rawValue))
        for name in sources where !knownSources.contains(name) {
            throw CLIFailure.usage("--source: unknown source \"\(name)\" (one of \(knownSources.sorted().joined(separator: ", ")))")
        }
    }

    /// The filter as of `now` (ages count back from it); names were checked in `validate()`.
    func filter(now: Timestamp) throws -> DeadLetterFilter {
        DeadLetterFilter(
            errorClasses: Set(errorClasses), sources: Set(sources),
            since: try since.map { try PointInTime.parse($0, option: "--since", now: now) },
            until: try until.map { try PointInTime.parse($0, option: "--until", now: now) },
            key: key
        )
    }
}
