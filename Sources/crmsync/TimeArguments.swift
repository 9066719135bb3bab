import CRMModel

/// An instant given as RFC 3339 or as an age (`90s`, `30m`, `2h`, `7d`) counted back from now.
enum PointInTime {
    static func parse(_ text: String, option: String, now: Timestamp) throws -> Timestamp {
        if let age = try? AgeText.milliseconds(text) {
            return Timestamp(epochMilliseconds: now.epochMilliseconds - age)
        }
        do {
            return try Timestamp(rfc3339: text)
        } catch {
            throw CLIFailure.usage("\(option): \"\(text)\" is neither an RFC 3339 time (2026-11-01T00:00:00Z) nor an age (30m, 2h, 7d)")
        }
    }
}

/// Ages and periods typed on the command line: a whole number and a unit, `s`, `m`, `h` or `d`.
enum AgeText {
    struct Invalid: Error {}

    static func milliseconds(_ text: String) throws -> Int64 {
        guard let unit = text.last, let amount = Int64(text.dropLast()), amount >= 0 else { throw Invalid() }
        let scale: Int64
        switch unit {
        case "s": scale = 1_000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        case "d": scale = 86_400_000
        default: throw Invalid()
        }
        let (result, overflow) = amount.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw Invalid() }
        return result
    }
}
