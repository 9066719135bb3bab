import ArgumentParser
import DeadLetters
import Pipeline

extension DeadLetterCommand {
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead letters by error class, source, stage and age; replay runs.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var filters: LetterFilterOptions

        @Option(help: "How many recent replay runs to show.")
        var runs: Int = 10

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            try await reportingFailures {
                let context = try await DeadLetterContext(common: common)
                let now = Clock.system.now()
                let filter = try filters.filter(now: now)
                var histogram = LetterHistogram()
                try await context.scan { message in
                    guard let entry = context.entry(message) else {
                        histogram.unreadable += 1
                        return
                    }
                    if filter.matches(entry) { histogram.add(entry, now: now) }
                }
                let ledger = try context.ledgerSummary(runs: runs)
                if json {
                    try printJSON(StatsJSON(histogram: histogram, ledger: ledger))
                    return
                }
                print("dead letters on \(context.dlqTopic): \(histogram.total) (\(filter.summary))")
                printCounts("by class", histogram.byClass)
                printCounts("by source", histogram.bySource)
                printCounts("by stage", histogram.byStage)
                printCounts("by age", histogram.byAge, order: LetterHistogram.ageBuckets)
                printCounts("by replay count", histogram.byReplayCount)
                if histogram.unreadable > 0 { print("not crmsync dead letters: \(histogram.unreadable)") }
                guard let ledger else {
                    print("replay runs: none recorded (no store at \(context.configuration.store))")
                    return
                }
                print("letters replayed at least once: \(ledger.replayedLetters)")
                print("replay runs (newest first): \(ledger.runs.isEmpty ? "none" : "")")
                for run in ledger.runs {
                    print("  run \(run.id)  \(run.status.rawValue)  by \(run.actor)  \(run.startedAt.rfc3339) → \(run.finishedAt?.rfc3339 ?? "…")  "
                        + "scanned \(run.counts.scanned)  matched \(run.counts.matched)  replayed \(run.counts.replayed)  skipped \(run.counts.skipped)  "
                        + "\(describe(options: run.options))\(run.targetTopic.map { " --to \($0)" } ?? "")\(run.note.map { "  (\($0))" } ?? "")")
                }
            }
        }

        private func printCounts(_ title: String, _ counts: [String: Int], order: [String]? = nil) {
            guard !counts.isEmpty else { return }
            let keys = order?.filter { counts[$0] != nil } ?? counts.keys.sorted { (counts[$0] ?? 0, $1) > (counts[$1] ?? 0, $0) }
            print("  \(title): " + keys.map { "\($0)=\(counts[$0] ?? 0)" }.joined(separator: "  "))
        }
    }
}
