import ArgumentParser
import CRMModel
import Foundation
import Logging
import Pipeline
import Store

/// `crmsync purge [--older-than 30d] [--event-ids-older-than 90d] [--dry-run] [--json]`
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Hard-delete records soft-deleted longer than the grace period, and forget old event ids.",
        discussion: """
        A record qualifies when its deleted_at (the event time of its latest delete) and its last
        change written by crmsync are both older than --older-than. Each purged record gets a final `purge` audit event on its hash chain and
        loses its crosswalk entries and identifiers, so no later event can match it; tombstones of
        records merged into it go with it. One transaction per --batch-size records, so it is safe
        while `crmsync run` is running (its relay publishes the audit events; else the next run does).
        Remembered event ids (redelivery and replay detection) first seen before
        --event-ids-older-than are forgotten; the 90-day default outlives the source topics'
        7-day and the dead-letter topic's 30-day retention, so anything that can still be
        redelivered or replayed is still recognized.
        Durations: Nd (days), Nh (hours), Nm (minutes) or Ns (seconds).
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Grace period: purge records soft-deleted longer ago than this (e.g. 30d, 12h).")
    var olderThan: String = "30d"

    @Option(name: .customLong("event-ids-older-than"), help: "Forget remembered event ids first seen longer ago than this (e.g. 90d; default 90d).")
    var eventIDsOlderThan: String?

    @Flag(help: "Only report what would be purged; change nothing.")
    var dryRun = false

    @Option(help: "Records per transaction.")
    var batchSize: Int = 200

    @Option(help: "Who purged (recorded in the audit events; default $USER).")
    var actor: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await reportingFailures {
            let grace = try Self.milliseconds(olderThan, option: "--older-than")
            let retention = try eventIDsOlderThan.map { try Self.milliseconds($0, option: "--event-ids-older-than") }
                ?? SQLiteStore.defaultEventRetentionMilliseconds
            guard batchSize > 0 else { throw CLIFailure.usage("--batch-size must be positive") }
            let configuration = try common.load(quietByDefault: true)
            let writer: WriteStage
            if dryRun {
                // Read-only: a dry run must not even apply a pending migration.
                let store = try openStore(configuration)
                writer = try Stages.writeStage(configuration, store: store, logger: Logger(label: "crmsync.purge"))
            } else {
                writer = try Stages.writeStageOnExistingStore(configuration, label: "crmsync.purge")
            }
            let now = Clock.system.now()
            let cutoff = Timestamp(epochMilliseconds: now.epochMilliseconds - grace)
            let report: PurgeReport
            do {
                report = try writer.purge(
                    deletedBefore: cutoff, eventIDsSeenBefore: Timestamp(epochMilliseconds: now.epochMilliseconds - retention),
                    dryRun: dryRun, batchSize: batchSize, actor: actor ?? ProcessInfo.processInfo.environment["USER"] ?? "operator")
            } catch let error as StoreError {
                // Batches already committed stay purged; running it again carries on.
                throw CLIFailure.store("\(error) (committed batches stay purged; run purge again to continue)")
            }
            if json {
                try printJSON(PurgeJSON(report, cutoff: cutoff, dryRun: dryRun))
                return
            }
            let verb = dryRun ? "would purge" : "purged"
            for entry in report.records {
                print("\(verb) \(entry.goldenID) (\(entry.entity.rawValue), soft-deleted \(entry.deletedAt.rfc3339))")
            }
            print("\(verb) \(report.records.count) record(s) soft-deleted before \(cutoff.rfc3339); "
                + "\(dryRun ? "would forget" : "forgot") \(report.eventIDs) remembered event id(s)")
        }
    }

    /// `30d` or `12h` in milliseconds.
    static func milliseconds(_ text: String, option: String) throws -> Int64 {
        do {
            return try AgeText.milliseconds(text)
        } catch {
            throw CLIFailure.usage("\(option) must be a period like 30d, 12h or 90m (got \"\(text)\")")
        }
    }
}

private struct PurgeJSON: Encodable {
    struct Record: Encodable {
        var id: String
        var entity: String
        var deletedAt: String
        var externalIDs: [String: [String]]
        var tombstones: [String]
        enum CodingKeys: String, CodingKey {
            case id, entity, tombstones
            case deletedAt = "deleted_at"
            case externalIDs = "external_ids"
        }
    }
    var dryRun: Bool
    var cutoff: String
    var records: [Record]
    var eventIDs: Int

    init(_ report: PurgeReport, cutoff: Timestamp, dryRun: Bool) {
        self.dryRun = dryRun
        self.cutoff = cutoff.rfc3339
        records = report.records.map {
            Record(id: $0.goldenID, entity: $0.entity.rawValue, deletedAt: $0.deletedAt.rfc3339, externalIDs: $0.externalIDs,
                   tombstones: $0.tombstones)
        }
        eventIDs = report.eventIDs
    }

    enum CodingKeys: String, CodingKey {
        case cutoff, records
        case dryRun = "dry_run"
        case eventIDs = "event_ids"
    }
}
