import ArgumentParser
import CRMModel
import CrmsyncConfig
import Foundation
import Store

/// `crmsync stats`: the accounting identity and record counts (docs/contract.md#accounting-identity).
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show what happened to every input event: applied, duplicate, held for review or dead-lettered.",
        discussion: "Reads the store; works while `crmsync run` is running."
    )

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print JSON.")
    var json = false

    struct Report: Encodable {
        struct Events: Encodable {
            var total = 0, applied = 0, duplicate = 0, review = 0, deadLettered = 0
            enum CodingKeys: String, CodingKey {
                case total, applied, duplicate, review
                case deadLettered = "dead_lettered"
            }
        }
        struct SourceStats: Encodable {
            var events = 0
            var lastAppliedAt: String?
            enum CodingKeys: String, CodingKey {
                case events
                case lastAppliedAt = "last_applied_at"
            }
        }
        var events = Events()
        var records: [String: Int] = [:]
        var sources: [String: SourceStats] = [:]
        /// Next offset to consume per source topic and partition, as committed in the store.
        var offsets: [String: [String: Int64]] = [:]
        /// Output records written but not yet published by the relay (at most 10,000 counted).
        var outboxUnsent = 0
        /// Alarms raised per kind, every kind listed (0 when never raised).
        var alarms: [String: Int] = [:]
        /// The newest alarms, newest first.
        var recentAlarms: [AlarmEntry] = []
        /// The newest outbox rows parked as undeliverable, newest first.
        var parkedOutbox: [ParkedEntry] = []
        /// Identity conflicts scoring below `identity.review_threshold`: noted, not queued.
        var nearMatches = 0
        enum CodingKeys: String, CodingKey {
            case events, records, sources, offsets, alarms
            case nearMatches = "near_matches"
            case outboxUnsent = "outbox_unsent"
            case recentAlarms = "recent_alarms"
            case parkedOutbox = "parked_outbox"
        }
    }

    struct ParkedEntry: Encodable {
        var id: Int64
        var topic: String
        var bytes: Int
        var reason: String
        var parkedAt: String
        enum CodingKeys: String, CodingKey {
            case id, topic, bytes, reason
            case parkedAt = "parked_at"
        }
    }

    struct AlarmEntry: Encodable {
        var kind: String
        var topic: String
        var partition: Int32
        var lostFrom: Int64?
        var lostTo: Int64?
        var resumedAt: Int64
        var raisedAt: String
        var detail: String
        enum CodingKeys: String, CodingKey {
            case kind, topic, partition, detail
            case lostFrom = "lost_from"
            case lostTo = "lost_to"
            case resumedAt = "resumed_at"
            case raisedAt = "raised_at"
        }
    }

    func run() async throws {
        try await reportingFailures {
            let configuration = try common.load(quietByDefault: true)
            let store = try openStore(configuration)
            let topics = TopicRole.sources.map(configuration.topic)
            // One snapshot, so the numbers agree with each other.
            let (counts, records, offsets, unsent, alarmCounts, latestAlarms, parkedCount, parked, nearMatches) = try store.read { reader in
                (try reader.outcomeCounts(), try reader.recordCounts(), try topics.map { ($0, try reader.consumedOffsets(topic: $0)) },
                 try reader.unsentOutbox(limit: 10_000).count,
                 try reader.alarmCounts(), try reader.latestAlarms(limit: 10), try reader.parkedOutboxCount(), try reader.parkedOutbox(limit: 10),
                 try reader.nearMatchCount())
            }
            var report = Report()
            report.nearMatches = nearMatches
            report.outboxUnsent = unsent
            for kind in Alarm.Kind.allCases { report.alarms[kind.rawValue] = alarmCounts[kind] ?? 0 }
            report.alarms["outbox_parked"] = parkedCount
            report.parkedOutbox = parked.map {
                ParkedEntry(id: $0.id, topic: $0.topic, bytes: $0.valueBytes, reason: $0.reason, parkedAt: $0.parkedAt.rfc3339)
            }
            report.recentAlarms = latestAlarms.map {
                AlarmEntry(kind: $0.kind.rawValue, topic: $0.topic, partition: $0.partition, lostFrom: $0.lostFrom, lostTo: $0.lostTo,
                           resumedAt: $0.resumedAt, raisedAt: $0.raisedAt.rfc3339, detail: $0.detail)
            }
            for (topic, partitions) in offsets where !partitions.isEmpty {
                report.offsets[topic] = Dictionary(uniqueKeysWithValues: partitions.map { (String($0.key), $0.value) })
            }
            for entity in [Entity.contact, .account, .deal] { report.records[entity.rawValue] = records[entity] ?? 0 }
            for count in counts {
                let n = Int(count.count)
                report.events.total += n
                switch count.outcome {
                case .applied: report.events.applied += n
                case .duplicate: report.events.duplicate += n
                case .review: report.events.review += n
                case .deadLettered: report.events.deadLettered += n
                }
                var source = report.sources[count.source] ?? Report.SourceStats()
                source.events += n
                if count.outcome == .applied, let last = count.lastAt?.rfc3339 {
                    source.lastAppliedAt = max(source.lastAppliedAt ?? "", last)
                }
                report.sources[count.source] = source
            }
            if json {
                try printJSON(report)
                return
            }
            let e = report.events
            print("events: \(e.total) = \(e.applied) applied + \(e.duplicate) duplicate + \(e.review) held for review + \(e.deadLettered) dead-lettered")
            print("records: " + report.records.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)s" }.joined(separator: ", "))
            print("near matches (noted, not queued for review): \(report.nearMatches)")
            for (name, source) in report.sources.sorted(by: { $0.key < $1.key }) {
                print("  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(source.events) events, last applied \(source.lastAppliedAt ?? "never")")
            }
            print("alarms: " + report.alarms.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.replacingOccurrences(of: "_", with: " "))" }.joined(separator: ", "))
            for alarm in report.recentAlarms {
                guard alarm.kind == Alarm.Kind.offsetOutOfRange.rawValue else {
                    // A stop alarm: the processor stopped at that offset; its line says why.
                    print("  \(alarm.raisedAt) \(alarm.topic)[\(alarm.partition)]: stopped at \(alarm.resumedAt): \(alarm.detail)")
                    continue
                }
                let range = alarm.lostFrom.flatMap { from in alarm.lostTo.map { "offsets \(from)...\($0) lost" } } ?? "nothing known lost"
                print("  \(alarm.raisedAt) \(alarm.topic)[\(alarm.partition)]: \(range), resumed at \(alarm.resumedAt)")
            }
            for row in report.parkedOutbox {
                print("  \(row.parkedAt) outbox row \(row.id) to \(row.topic) (\(row.bytes) bytes) parked: \(row.reason)")
            }
        }
    }
}
