import ArgumentParser
import DeadLetters
import Pipeline

extension DeadLetterCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, oldest first per DLQ partition.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var filters: LetterFilterOptions

        @Option(help: "At most this many letters.")
        var limit: Int = 1_000

        @Flag(help: "Print JSON (an array of letters).")
        var json = false

        func validate() throws {
            try checkingArguments {
                guard limit > 0 else { throw CLIFailure.usage("--limit must be at least 1") }
            }
        }

        func run() async throws {
            try await reportingFailures {
                let context = try await DeadLetterContext(common: common)
                let filter = try filters.filter(now: Clock.system.now())
                var entries: [DeadLetterEntry] = []
                var unreadable: [LetterPosition] = []
                do {
                    try await context.scan { message in
                        guard let entry = context.entry(message) else {
                            unreadable.append(LetterPosition(partition: message.partition, offset: message.offset))
                            return
                        }
                        guard filter.matches(entry) else { return }
                        entries.append(entry)
                        if entries.count == limit { throw LimitReached() }
                    }
                } catch is LimitReached {
                    // Enough letters: stop reading.
                }
                let replayed = try context.replayedLetters(entries)
                if json {
                    try printJSON(entries.map { LetterJSON($0, replayedByRun: replayed[$0.position], includeBytes: false) })
                    return
                }
                if entries.isEmpty { print("no dead letters match (\(filter.summary))") }
                for entry in entries {
                    let letter = entry.letter
                    let replayNote = replayed[entry.position].map { "  replayed by run \($0)" } ?? ""
                    print("\(entry.position)  \(letter.failedAt.rfc3339)  \(letter.error.errorClass.rawValue)  \(letter.error.stage.rawValue)  "
                        + "\(entry.source ?? "-")  \(letter.originalTopic)[\(letter.originalPartition)]@\(letter.originalOffset)  "
                        + "replays=\(letter.replayCount)  key=\(letter.key.map(printable) ?? "-")\(replayNote)")
                    print("    \(letter.error)")
                }
                if entries.count == limit { print("(stopped at --limit \(limit))") }
                if !unreadable.isEmpty {
                    print("\(unreadable.count) record(s) on the DLQ are not crmsync dead letters: \(unreadable.prefix(10).map(\.description).joined(separator: ", "))")
                }
            }
        }
    }
}

/// Ends a scan early once `--limit` letters are in hand.
private struct LimitReached: Error {}
