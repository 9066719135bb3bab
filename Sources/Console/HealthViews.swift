import CRMModel
import DeadLetters
import Foundation
import Store

/// One assigned partition's consumer lag: messages on the broker not yet processed (the log end
/// minus the store's next offset), as `crmsync_consumer_lag` exports it.
public struct PartitionLag: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var lag: Int64

    public init(topic: String, partition: Int32, lag: Int64) {
        self.topic = topic
        self.partition = partition
        self.lag = lag
    }
}

/// The health page: events of the last hour and day by outcome per source and system (the
/// store's hour buckets, fed from the same batch summary as `crmsync_events_total`), the
/// all-time outcome counters (`crmsync stats`), consumer lag (`crmsync_consumer_lag`), dead
/// letters by class, and the operations snapshot `/metrics` exports.
enum HealthViews {
    /// Dead-lettered share of a window's events above which a source fails (the alert's line).
    static let failureLine = 0.01
    /// The alert (`CrmsyncFailureRateHigh`) fires only with at least this many events in the hour.
    static let alertMinimumEvents: Int64 = 100
    static let outcomes: [EventOutcome] = [.applied, .duplicate, .review, .deadLettered]

    static func health(reader: any StoreReader, snapshot: OperationsSnapshot, lag: [PartitionLag]?, now: Timestamp) throws -> [String: Any] {
        let currentHour = HourBucket.start(of: now)
        let hourFrom = currentHour - HourBucket.milliseconds, dayFrom = currentHour - 24 * HourBucket.milliseconds
        let day = try reader.eventCounts(sinceHour: dayFrom)
        let hour = try reader.eventCounts(sinceHour: hourFrom)
        let counts = try reader.outcomeCounts()
        let alarms = try reader.latestAlarms(limit: 20)
        let letters = try reader.deadLetterCounts()

        var context: [String: Any] = [
            "openReviews": snapshot.openReviews, "outboxUnsent": snapshot.outboxUnsent, "parked": snapshot.outboxParked,
            "oldestUnsent": snapshot.oldestUnsentAt.map { "oldest waiting since \(Formatting.age(of: $0, now: now))" } ?? "none waiting",
            "alarmTotal": snapshot.alarms.values.reduce(0, +),
            "hourSince": Timestamp(epochMilliseconds: hourFrom).rfc3339, "daySince": Timestamp(epochMilliseconds: dayFrom).rfc3339,
            "windows": windows(hour: hour, day: day),
            "sources": totals(counts, snapshot: snapshot, now: now),
            "alarms": alarms.map { alarm -> [String: Any] in
                ["at": alarm.raisedAt.rfc3339, "kind": alarm.kind.rawValue.replacingOccurrences(of: "_", with: " "),
                 "where": "\(alarm.topic)[\(alarm.partition)]", "detail": alarm.detail]
            },
            "hasAlarms": !alarms.isEmpty,
        ]
        let dlq = letters.map {
            ["errorClass": $0.errorClass, "count": $0.count, "newest": $0.lastAt.rfc3339,
             "link": "/console/dead-letters?class=\(DeadLetterViews.query($0.errorClass))"] as [String: Any]
        }
        context["dlq"] = dlq
        context["hasDLQ"] = !dlq.isEmpty
        if let lag {
            let sorted = lag.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            context["lag"] = sorted.map { ["topic": $0.topic, "partition": $0.partition, "lag": $0.lag, "lagClass": $0.lag > 0 ? "warn" : "ok"] as [String: Any] }
            context["lagTotal"] = sorted.reduce(0) { $0 + $1.lag }
            context["hasLag"] = !sorted.isEmpty
        }
        context["lagKnown"] = lag != nil
        return context
    }

    /// One row per source and system seen in the last day: outcomes in the last hour and day,
    /// and each window's dead-lettered share against the 1% line.
    static func windows(hour: [EventWindowCount], day: [EventWindowCount]) -> [[String: Any]] {
        struct Row: Hashable { var source: String; var system: String }
        let rows = Set(day.map { Row(source: $0.key.source, system: $0.key.system) }).sorted { ($0.source, $0.system) < ($1.source, $1.system) }
        return rows.map { row in
            func cells(_ window: [EventWindowCount]) -> [String: Any] {
                let mine = window.filter { $0.key.source == row.source && $0.key.system == row.system }
                func count(_ outcome: EventOutcome) -> Int64 { mine.filter { $0.key.outcome == outcome.rawValue }.reduce(0) { $0 + $1.count } }
                let total = mine.reduce(0) { $0 + $1.count }
                let failed = count(.deadLettered)
                let ratio = total == 0 ? 0 : Double(failed) / Double(total)
                return ["applied": count(.applied), "duplicate": count(.duplicate), "review": count(.review), "deadLettered": failed,
                        "total": total, "ratio": String(format: "%.2f%%", ratio * 100),
                        "ratioClass": ratio > failureLine ? (total >= alertMinimumEvents ? "bad" : "warn") : "ok"]
            }
            return ["source": row.source, "system": row.system, "hour": cells(hour), "day": cells(day)]
        }
    }

    /// All-time outcome counters per source (`crmsync stats`), with the last applied event.
    static func totals(_ counts: [OutcomeCount], snapshot: OperationsSnapshot, now: Timestamp) -> [[String: Any]] {
        Set(counts.map(\.source)).sorted().map { name in
            let mine = counts.filter { $0.source == name }
            func count(_ outcome: EventOutcome) -> Int64 { mine.first { $0.outcome == outcome }?.count ?? 0 }
            let total = mine.reduce(0) { $0 + $1.count }
            let ratio = total == 0 ? 0 : Double(count(.deadLettered)) / Double(total)
            return [
                "name": name, "applied": count(.applied), "duplicate": count(.duplicate), "review": count(.review),
                "deadLettered": count(.deadLettered),
                "ratio": String(format: "%.2f%%", ratio * 100), "ratioClass": ratio > failureLine ? "bad" : "ok",
                "lastApplied": snapshot.lastAppliedAt[name].map { "\($0.rfc3339) (\(Formatting.age(of: $0, now: now)))" } ?? "never",
            ]
        }
    }
}
