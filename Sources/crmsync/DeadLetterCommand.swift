import ArgumentParser
import CRMModel
import CrmsyncConfig
import DeadLetters
import Foundation
import Kafka
import Logging
import Pipeline
import Store

/// `crmsync dlq list|show|stats|replay`
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "See, filter and replay dead letters (dlq.events.v1).",
        discussion: """
        Every command reads the DLQ topic with its own group-less reader: the processor's \
        consumer group is never touched. Filters (list, stats, replay): --class CLASS, \
        --source SOURCE (both repeatable), --since/--until (RFC 3339, or an age like 2h or 7d \
        meaning "that long ago", on the failure time), --key KEY (the original record key).

        Fix forward: correct the config (e.g. add the missing picklist mapping), restart \
        `crmsync run`, then `crmsync dlq replay --class unmapped-value`. Replaying is always \
        safe: an event applied before counts as a duplicate, one that fails again returns to \
        the DLQ with crmsync.replay.count raised.
        """,
        subcommands: [List.self, Show.self, Stats.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, oldest first per DLQ partition.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var filters: LetterFilterOptions

        @Option(help: "At most this many letters.")
        var limit: Int = 1_000

        @Flag(help: "Print JSON (an array of letters).")
        var json = false

        func run() async throws {
            try await reportingFailures {
                guard limit > 0 else { throw CLIFailure.usage("--limit must be at least 1") }
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

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead letter with its headers, key and bytes.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "Where the letter is on the DLQ: PARTITION:OFFSET, or OFFSET with --partition.")
        var position: String

        @Option(help: "The DLQ partition when POSITION is a bare offset.")
        var partition: Int32 = 0

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            try await reportingFailures {
                guard let wanted = LetterPosition(parsing: position, defaultPartition: partition) else {
                    throw CLIFailure.usage("POSITION must be PARTITION:OFFSET or OFFSET (got \"\(position)\")")
                }
                let context = try await DeadLetterContext(common: common)
                guard wanted.partition < context.partitions else {
                    throw CLIFailure.usage("\(context.dlqTopic) has \(context.partitions) partition(s); there is no partition \(wanted.partition)")
                }
                var found: ConsumerMessage?
                try await context.scan(only: wanted) { found = $0 }
                guard let message = found else {
                    throw CLIFailure.other("no record at \(context.dlqTopic) \(wanted) (expired, or beyond the end)")
                }
                guard let entry = context.entry(message) else {
                    throw CLIFailure.other("\(context.dlqTopic) \(wanted) is not a crmsync dead letter (no crmsync.* headers)")
                }
                let replayedBy = try context.replayedLetters([entry])[wanted]
                if json {
                    try printJSON(LetterJSON(entry, replayedByRun: replayedBy, includeBytes: true, headers: message.headers))
                    return
                }
                let letter = entry.letter
                print("dead letter \(context.dlqTopic) \(wanted)")
                print("  error:      \(letter.error.errorClass.rawValue) at stage \(letter.error.stage.rawValue)\(letter.error.fieldPath.map { ", field \($0)" } ?? "")")
                print("  message:    \(letter.error.message)")
                print("  original:   \(letter.originalTopic)[\(letter.originalPartition)]@\(letter.originalOffset)\(entry.source.map { " (source \($0))" } ?? "")"
                    + (letter.originalTimestampMilliseconds.map { ", published \(Timestamp(epochMilliseconds: $0).rfc3339)" } ?? ""))
                print("  failed at:  \(letter.failedAt.rfc3339)")
                print("  replays:    \(letter.replayCount)\(replayedBy.map { ", replayed by run \($0)" } ?? "")")
                print("  key:        \(letter.key.map(printable) ?? "(null)")")
                print("  headers:")
                for header in message.headers {
                    print("    \(header.name): \(header.value.map(printable) ?? "(null)")")
                }
                print("  value (\(letter.value?.count ?? 0) bytes):")
                print(letter.value.map(printable) ?? "(null)")
            }
        }
    }

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

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-publish dead letters to their original topics (or --to TOPIC).",
            discussion: """
            Key, bytes and original headers are kept; crmsync.replay.count is raised by one. \
            Letters an earlier run replayed are skipped unless --again; letters replayed \
            --max-replays times are skipped always (loop guard). Every run is recorded in the \
            store (who, when, filters, counts; see `crmsync dlq stats`). Ctrl-C stops after the \
            letters in flight are delivered; `--resume` continues the interrupted run where it \
            stopped. Exit codes: 0 done, 1 failed (the run is recorded as interrupted), 2 bad \
            usage, 3 Kafka unreachable, 5 store missing or in use, 130 stopped by a signal.
            """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var filters: LetterFilterOptions

        @Flag(help: "Print what would be replayed; change nothing.")
        var dryRun = false

        @Option(help: "At most N letters per second.")
        var rate: Double?

        @Option(help: "Skip letters already replayed N times or more (loop guard).")
        var maxReplays: Int?

        @Flag(help: "Replay letters an earlier run replayed already.")
        var again = false

        @Option(help: "Publish to this topic instead of each letter's original topic.")
        var to: String?

        @Flag(help: "Continue the most recent interrupted run, with its own filters and options.")
        var resume = false

        @Option(help: "Who runs the replay (recorded with the run; default $USER).")
        var actor: String?

        @Flag(help: "Print the final report as JSON.")
        var json = false

        func run() async throws {
            try await reportingFailures {
                if let rate, !(0.1...100_000).contains(rate) { throw CLIFailure.usage("--rate must be between 0.1 and 100000 messages per second") }
                if let maxReplays, maxReplays < 1 { throw CLIFailure.usage("--max-replays must be at least 1") }
                if resume, filters.isGiven || maxReplays != nil || again || to != nil {
                    throw CLIFailure.usage("--resume continues the interrupted run with its own filters and options; give none of --class/--source/--since/--until/--key/--max-replays/--again/--to")
                }
                if resume, dryRun { throw CLIFailure.usage("--resume and --dry-run exclude each other") }
                let context = try await DeadLetterContext(common: common)
                if let to, context.topicPartitions[to] == nil {
                    throw CLIFailure.usage("--to: topic \(to) does not exist on \(context.configuration.brokers)")
                }
                let options = ReplayOptions(filter: try filters.filter(now: Clock.system.now()), maxReplays: maxReplays, again: again)
                let who = actor ?? ProcessInfo.processInfo.environment["USER"] ?? "operator"
                do {
                    if dryRun {
                        try await runDry(context: context, options: options, who: who)
                    } else {
                        try await runReplay(context: context, options: options, who: who)
                    }
                } catch let error as StoreError {
                    throw CLIFailure.store("\(error)")
                }
            }
        }

        private func settings(_ context: DeadLetterContext, options: ReplayOptions, target: String?, who: String) -> DeadLetterReplayer.Settings {
            var settings = DeadLetterReplayer.Settings(dlqTopic: context.dlqTopic, options: options, targetTopic: target, rate: rate, actor: who,
                                                       sourceOfTopic: context.sourceOfTopic, topicPartitions: context.topicPartitions)
            // With --rate, record progress about twice a second (a stop then loses little).
            if let rate { settings.chunkSize = max(1, min(100, Int(rate / 2))) }
            return settings
        }

        private func runDry(context: DeadLetterContext, options: ReplayOptions, who: String) async throws {
            let replayer = DeadLetterReplayer(settings: settings(context, options: options, target: to, who: who), reader: context.reader, logger: context.logger)
            let report = try await replayer.dryRun(partitions: context.partitions, store: context.readStore)
            if json {
                try printJSON(ReplayReportJSON(report, dryRun: true))
                return
            }
            for entry in report.wouldReplay {
                let letter = entry.letter
                print("would replay \(entry.position) → \(to ?? letter.originalTopic)  \(letter.error.errorClass.rawValue)  key=\(letter.key.map(printable) ?? "-")  replay.count \(letter.replayCount) → \(letter.replayCount + 1)")
            }
            print("dry run (\(options.filter.summary)): scanned \(report.counts.scanned), matched \(report.counts.matched), "
                + "would replay \(report.wouldReplay.count), would skip \(report.counts.skipped); nothing was changed")
        }

        private func runReplay(context: DeadLetterContext, options: ReplayOptions, who: String) async throws {
            // The ledger needs the store that dead-lettered the events; never create one here.
            guard FileManager.default.fileExists(atPath: context.configuration.store) else {
                throw CLIFailure.store("no store at \(context.configuration.store): replay records its runs there (pass --store PATH)")
            }
            let store: SQLiteStore
            do { store = try SQLiteStore(path: context.configuration.store) } catch { throw CLIFailure.store("\(error)") }
            let lock = try StoreLock(storePath: context.configuration.store, suffix: ".dlq-replay.lock", holder: "`crmsync dlq replay`")
            defer { lock.release() }
            let abandoned = try store.interruptAbandonedReplayRuns(at: Clock.system.now())
            for id in abandoned { context.logger.warning("replay run \(id) had stopped without finishing; marked interrupted") }

            var resuming: ReplayRun?
            var runOptions = options
            var target = to
            if resume {
                guard let run = try store.latestInterruptedReplayRun(dlqTopic: context.dlqTopic) else {
                    throw CLIFailure.other("no interrupted replay run to resume on \(context.dlqTopic)")
                }
                do {
                    runOptions = try JSONDecoder().decode(ReplayOptions.self, from: Data(run.options.utf8))
                } catch {
                    throw CLIFailure.store("replay run \(run.id): its recorded options cannot be read: \(error)")
                }
                target = run.targetTopic
                resuming = run
                FileHandle.standardError.write(Data("resuming replay run \(run.id) (\(runOptions.filter.summary)) at \(run.cursor.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "))\n".utf8))
            } else if let pending = try store.latestInterruptedReplayRun(dlqTopic: context.dlqTopic) {
                FileHandle.standardError.write(Data("note: replay run \(pending.id) was interrupted; `crmsync dlq replay --resume` continues it with its own filters\n".utf8))
            }

            let producer: KafkaProducer
            do {
                producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: context.configuration.brokers, overrides: context.configuration.kafka),
                                             logger: context.logger, name: "replay")
            } catch {
                throw CLIFailure.kafka("\(error)")
            }
            let replayer = DeadLetterReplayer(settings: settings(context, options: runOptions, target: target, who: who), reader: context.reader, logger: context.logger)
            let stop = OnceFlag()
            let started = ContinuousClock.now
            let report: DeadLetterReplayer.Report
            do {
                // SIGTERM/SIGINT: stop after the letters in flight are delivered (Lifecycle).
                report = try await Lifecycle.runUntilDone(shutdownTimeout: .seconds(context.configuration.shutdownTimeoutSeconds), logger: context.logger, onShutdown: {
                    FileHandle.standardError.write(Data("stopping after the letters in flight are delivered…\n".utf8))
                    _ = stop.claim()
                }) { [store, resuming, partitions = context.partitions] in
                    let lastPrinted = Locked(ContinuousClock.now)
                    return try await replayer.run(store: store, producer: producer, partitions: partitions, resuming: resuming,
                                                  shouldStop: { stop.isClaimed }) { progress in
                        guard lastPrinted.withLock({ ContinuousClock.now - $0 >= .seconds(1) }) || progress.remaining == 0 else { return }
                        lastPrinted.withLock { $0 = ContinuousClock.now }
                        let counts = progress.counts
                        FileHandle.standardError.write(Data("replay: scanned \(counts.scanned), replayed \(counts.replayed), skipped \(counts.skipped), \(progress.remaining) letter(s) to go\n".utf8))
                    }
                }
            } catch let failure as DeadLetterReplayer.Failure {
                await producer.close()
                throw CLIFailure.other(failure.description)
            } catch let error as KafkaError {
                await producer.close()
                throw CLIFailure.kafka("\(error)")
            } catch {
                await producer.close()
                throw error
            }
            await producer.close()
            if json {
                try printJSON(ReplayReportJSON(report, dryRun: false))
            } else {
                let runID = report.run.map { "replay run \($0.id)" } ?? "replay"
                let seconds = (ContinuousClock.now - started).components.seconds
                print("\(runID) \(report.interrupted ? "interrupted" : "completed") in \(seconds) s: scanned \(report.counts.scanned), matched \(report.counts.matched), "
                    + "replayed \(report.counts.replayed), skipped \(report.counts.skipped)\(report.unreadable.isEmpty ? "" : ", \(report.unreadable.count) not crmsync dead letters")")
                if report.interrupted { print("`crmsync dlq replay --resume` continues it") }
            }
            if report.interrupted { throw ExitCode(130) }
        }
    }
}

/// Ends a scan early once `--limit` letters are in hand.
private struct LimitReached: Error {}

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

    func filter(now: Timestamp) throws -> DeadLetterFilter {
        let knownClasses = Set(EventError.Class.allCases.map(\.rawValue))
        for name in errorClasses where !knownClasses.contains(name) {
            throw CLIFailure.usage("--class: unknown error class \"\(name)\" (one of \(knownClasses.sorted().joined(separator: ", ")))")
        }
        let knownSources = Set(Source.allCases.map(\.rawValue))
        for name in sources where !knownSources.contains(name) {
            throw CLIFailure.usage("--source: unknown source \"\(name)\" (one of \(knownSources.sorted().joined(separator: ", ")))")
        }
        return DeadLetterFilter(
            errorClasses: Set(errorClasses), sources: Set(sources),
            since: try since.map { try PointInTime.parse($0, option: "--since", now: now) },
            until: try until.map { try PointInTime.parse($0, option: "--until", now: now) },
            key: key
        )
    }
}

/// What every `dlq` command needs: the configuration, the DLQ's partitions, a reader, the store if any.
private struct DeadLetterContext {
    let configuration: CrmsyncConfiguration
    let logger: Logger
    let dlqTopic: String
    let partitions: Int32
    let topicPartitions: [String: Int32]
    let sourceOfTopic: [String: String]
    let reader: TopicSnapshot.Reader
    /// The store, read-only, when one exists (for the replay ledger).
    let readStore: SQLiteStore?

    init(common: CommonOptions) async throws {
        configuration = try common.load(quietByDefault: true)
        logger = Logger(label: "crmsync.dlq")
        dlqTopic = configuration.topic(.dlq)
        let topics: [String: TopicDescription]
        do {
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(configuration.kafkaProperties), logger: logger)
            topics = try await admin.describeTopics()
            reader = try TopicSnapshot.Reader(bootstrapServers: configuration.brokers, overrides: configuration.kafka, logger: logger)
        } catch {
            throw CLIFailure.kafka("\(error)")
        }
        guard let dlq = topics[dlqTopic] else {
            throw CLIFailure.kafka("topic \(dlqTopic) does not exist on \(configuration.brokers) (run `crmsync topics apply`)")
        }
        partitions = dlq.partitions
        topicPartitions = topics.mapValues(\.partitions)
        sourceOfTopic = Stages.sources(configuration).mapValues(\.rawValue)
        do {
            readStore = try SQLiteStore.openForReading(path: configuration.store)
        } catch where error.kind == .missingStore || (error.kind == .schema && error.message.contains("needs migrations")) {
            // No store, or one whose replay ledger does not exist yet: no letter was replayed.
            readStore = nil
        } catch {
            throw CLIFailure.store(error.message)
        }
    }

    /// Every record on the DLQ as of now, partition by partition.
    func scan(_ body: (ConsumerMessage) async throws -> Void) async throws {
        do {
            let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
            try await reader.scan(topic: dlqTopic, ranges: marks.mapValues { $0.low..<$0.high }, body: body)
        } catch let error as KafkaError {
            throw CLIFailure.kafka("\(error)")
        }
    }

    /// The one record at `position`, if the DLQ still has it.
    func scan(only position: LetterPosition, _ body: (ConsumerMessage) async throws -> Void) async throws {
        do {
            let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
            guard let mark = marks[position.partition], mark.low <= position.offset, position.offset < mark.high else { return }
            try await reader.scan(topic: dlqTopic, ranges: [position.partition: position.offset..<(position.offset + 1)], body: body)
        } catch let error as KafkaError {
            throw CLIFailure.kafka("\(error)")
        }
    }

    func entry(_ message: ConsumerMessage) -> DeadLetterEntry? {
        DeadLetterEntry(message: message, sourceOfTopic: sourceOfTopic)
    }

    /// Which of `entries` were replayed, by the run that last did it (empty without a store).
    func replayedLetters(_ entries: [DeadLetterEntry]) throws -> [LetterPosition: Int64] {
        guard let store = readStore else { return [:] }
        var result: [LetterPosition: Int64] = [:]
        for (partition, inPartition) in Dictionary(grouping: entries, by: \.position.partition) {
            guard let low = inPartition.map(\.position.offset).min(), let high = inPartition.map(\.position.offset).max() else { continue }
            let ledger: [Int64: ReplayedLetter]
            do {
                ledger = try store.replayedLetters(dlqTopic: dlqTopic, partition: partition, offsets: low...high)
            } catch {
                throw CLIFailure.store("\(error)")
            }
            for entry in inPartition {
                if DeadLetterReplayer.wasReplayed(entry, ledger: ledger), let replayed = ledger[entry.position.offset] {
                    result[entry.position] = replayed.runID
                }
            }
        }
        return result
    }

    func ledgerSummary(runs: Int) throws -> LedgerSummary? {
        guard let store = readStore else { return nil }
        do {
            return LedgerSummary(replayedLetters: try store.replayedLetterCount(dlqTopic: dlqTopic),
                                 runs: try store.replayRuns(limit: max(0, runs)).filter { $0.dlqTopic == dlqTopic })
        } catch {
            throw CLIFailure.store("\(error)")
        }
    }
}

private struct LedgerSummary {
    var replayedLetters: Int64
    var runs: [ReplayRun]
}

/// Counts of letters along each axis `dlq stats` shows.
private struct LetterHistogram {
    static let ageBuckets = ["<1h", "1h-1d", "1d-7d", ">=7d"]

    var total = 0
    var unreadable = 0
    var byClass: [String: Int] = [:]
    var bySource: [String: Int] = [:]
    var byStage: [String: Int] = [:]
    var byAge: [String: Int] = [:]
    var byReplayCount: [String: Int] = [:]

    mutating func add(_ entry: DeadLetterEntry, now: Timestamp) {
        let letter = entry.letter
        total += 1
        byClass[letter.error.errorClass.rawValue, default: 0] += 1
        bySource[entry.source ?? letter.originalTopic, default: 0] += 1
        byStage[letter.error.stage.rawValue, default: 0] += 1
        byReplayCount[String(letter.replayCount), default: 0] += 1
        let age = now.epochMilliseconds - letter.failedAt.epochMilliseconds
        let bucket = age < 3_600_000 ? 0 : age < 86_400_000 ? 1 : age < 7 * 86_400_000 ? 2 : 3
        byAge[Self.ageBuckets[bucket], default: 0] += 1
    }
}

// MARK: - Output

private func printable(_ bytes: [UInt8]) -> String {
    if let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }) {
        return text
    }
    return "base64:" + Data(bytes).base64EncodedString()
}

private func describe(options text: String) -> String {
    guard let options = try? JSONDecoder().decode(ReplayOptions.self, from: Data(text.utf8)) else { return text }
    var parts = [options.filter.summary]
    if let maxReplays = options.maxReplays { parts.append("--max-replays \(maxReplays)") }
    if options.again { parts.append("--again") }
    return parts.joined(separator: " ")
}

/// Bytes in JSON: `text` when they are valid UTF-8, `base64` always.
private struct BytesJSON: Encodable {
    var text: String?
    var base64: String

    init(_ bytes: [UInt8]) {
        text = String(validating: bytes, as: UTF8.self)
        base64 = Data(bytes).base64EncodedString()
    }
}

private struct LetterJSON: Encodable {
    var position: String
    var partition: Int32
    var offset: Int64
    var errorClass: String
    var stage: String
    var message: String
    var field: String?
    var source: String?
    var originalTopic: String
    var originalPartition: Int32
    var originalOffset: Int64
    var originalTimestamp: String?
    var failedAt: String
    var replayCount: Int
    var replayedByRun: Int64?
    var key: BytesJSON?
    var value: BytesJSON?
    var headers: [HeaderJSON]?

    struct HeaderJSON: Encodable {
        var name: String
        var value: BytesJSON?
    }

    init(_ entry: DeadLetterEntry, replayedByRun: Int64?, includeBytes: Bool, headers: [KafkaHeader]? = nil) {
        let letter = entry.letter
        position = entry.position.description
        partition = entry.position.partition
        offset = entry.position.offset
        errorClass = letter.error.errorClass.rawValue
        stage = letter.error.stage.rawValue
        message = letter.error.message
        field = letter.error.fieldPath
        source = entry.source
        originalTopic = letter.originalTopic
        originalPartition = letter.originalPartition
        originalOffset = letter.originalOffset
        originalTimestamp = letter.originalTimestampMilliseconds.map { Timestamp(epochMilliseconds: $0).rfc3339 }
        failedAt = letter.failedAt.rfc3339
        replayCount = letter.replayCount
        self.replayedByRun = replayedByRun
        key = letter.key.map(BytesJSON.init)
        value = includeBytes ? letter.value.map(BytesJSON.init) : nil
        self.headers = headers?.map { HeaderJSON(name: $0.name, value: $0.value.map(BytesJSON.init)) }
    }

    enum CodingKeys: String, CodingKey {
        case position, partition, offset, stage, message, field, source, key, value, headers
        case errorClass = "error_class"
        case originalTopic = "original_topic"
        case originalPartition = "original_partition"
        case originalOffset = "original_offset"
        case originalTimestamp = "original_timestamp"
        case failedAt = "failed_at"
        case replayCount = "replay_count"
        case replayedByRun = "replayed_by_run"
    }
}

private struct RunJSON: Encodable {
    var id: Int64
    var actor: String
    var status: String
    var startedAt: String
    var finishedAt: String?
    var options: String
    var targetTopic: String?
    var scanned, matched, replayed, skipped: Int64
    var note: String?

    init(_ run: ReplayRun) {
        id = run.id
        actor = run.actor
        status = run.status.rawValue
        startedAt = run.startedAt.rfc3339
        finishedAt = run.finishedAt?.rfc3339
        options = run.options
        targetTopic = run.targetTopic
        scanned = run.counts.scanned
        matched = run.counts.matched
        replayed = run.counts.replayed
        skipped = run.counts.skipped
        note = run.note
    }

    enum CodingKeys: String, CodingKey {
        case id, actor, status, options, scanned, matched, replayed, skipped, note
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case targetTopic = "target_topic"
    }
}

private struct StatsJSON: Encodable {
    var total: Int
    var unreadable: Int
    var byClass: [String: Int]
    var bySource: [String: Int]
    var byStage: [String: Int]
    var byAge: [String: Int]
    var byReplayCount: [String: Int]
    var replayedLetters: Int64?
    var runs: [RunJSON]?

    init(histogram: LetterHistogram, ledger: LedgerSummary?) {
        total = histogram.total
        unreadable = histogram.unreadable
        byClass = histogram.byClass
        bySource = histogram.bySource
        byStage = histogram.byStage
        byAge = histogram.byAge
        byReplayCount = histogram.byReplayCount
        replayedLetters = ledger?.replayedLetters
        runs = ledger?.runs.map(RunJSON.init)
    }

    enum CodingKeys: String, CodingKey {
        case total, unreadable, runs
        case byClass = "by_class"
        case bySource = "by_source"
        case byStage = "by_stage"
        case byAge = "by_age"
        case byReplayCount = "by_replay_count"
        case replayedLetters = "replayed_letters"
    }
}

private struct ReplayReportJSON: Encodable {
    var dryRun: Bool
    var run: RunJSON?
    var scanned, matched, replayed, skipped: Int64
    var interrupted: Bool
    var wouldReplay: [LetterJSON]?
    var unreadable: [String]

    init(_ report: DeadLetterReplayer.Report, dryRun: Bool) {
        self.dryRun = dryRun
        run = report.run.map(RunJSON.init)
        scanned = report.counts.scanned
        matched = report.counts.matched
        replayed = report.counts.replayed
        skipped = report.counts.skipped
        interrupted = report.interrupted
        wouldReplay = dryRun ? report.wouldReplay.map { LetterJSON($0, replayedByRun: nil, includeBytes: false) } : nil
        unreadable = report.unreadable.map(\.description)
    }

    enum CodingKeys: String, CodingKey {
        case run, scanned, matched, replayed, skipped, interrupted, unreadable
        case dryRun = "dry_run"
        case wouldReplay = "would_replay"
    }
}
