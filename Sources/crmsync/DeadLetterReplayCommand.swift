import ArgumentParser
import DeadLetters
import Foundation
import Kafka
import Pipeline
import Store

extension DeadLetterCommand {
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
            usage, 3 Kafka unreachable, 5 store missing or in use, 124 shutdown_timeout reached \
            before the letters in flight were delivered, 130 stopped by a signal.
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

        func validate() throws {
            try checkingArguments {
                if let rate, !(0.1...100_000).contains(rate) { throw CLIFailure.usage("--rate must be between 0.1 and 100000 messages per second") }
                if let maxReplays, maxReplays < 1 { throw CLIFailure.usage("--max-replays must be at least 1") }
                if resume, filters.isGiven || maxReplays != nil || again || to != nil {
                    throw CLIFailure.usage("--resume continues the interrupted run with its own filters and options; give none of --class/--source/--since/--until/--key/--max-replays/--again/--to")
                }
                if resume, dryRun { throw CLIFailure.usage("--resume and --dry-run exclude each other") }
            }
        }

        func run() async throws {
            try await reportingFailures {
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
