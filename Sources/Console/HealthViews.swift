import CRMModel
import DeadLetters
import Foundation
import Store

/// The health page: the store's outcome counters (what `crmsync stats` prints), the dead letters counted by
/// class as they were written, and the operations snapshot `/metrics` exports (backlog, parked rows, open reviews, alarms).
enum HealthViews {
    /// A source whose dead-lettered share is above this is failing (the alert rule's line).
    static let failureLine = 0.01

    static func health(reader: any StoreReader, snapshot: OperationsSnapshot, dlqTopic: String, now: Timestamp) throws -> [String: Any] {
        let counts = try reader.outcomeCounts()
        let alarms = try reader.latestAlarms(limit: 20)
        let letters = try reader.deadLetterCounts()

        var sources: [[String: Any]] = []
        for name in Set(counts.map(\.source)).sorted() {
            let mine = counts.filter { $0.source == name }
            func count(_ outcome: EventOutcome) -> Int64 { mine.first { $0.outcome == outcome }?.count ?? 0 }
            let total = mine.reduce(0) { $0 + $1.count }
            let ratio = total == 0 ? 0 : Double(count(.deadLettered)) / Double(total)
            sources.append([
                "name": name, "applied": count(.applied), "duplicate": count(.duplicate), "review": count(.review),
                "deadLettered": count(.deadLettered),
                "ratio": String(format: "%.2f%%", ratio * 100), "ratioClass": ratio > failureLine ? "bad" : "ok",
                "lastApplied": snapshot.lastAppliedAt[name].map { "\($0.rfc3339) (\(Formatting.age(of: $0, now: now)))" } ?? "never",
            ])
        }
        let dlq = letters.map {
            ["errorClass": $0.errorClass, "count": $0.count, "newest": $0.lastAt.rfc3339] as [String: Any]
        }
        return [
            "openReviews": snapshot.openReviews, "outboxUnsent": snapshot.outboxUnsent, "parked": snapshot.outboxParked,
            "oldestUnsent": snapshot.oldestUnsentAt.map { "oldest waiting since \(Formatting.age(of: $0, now: now))" } ?? "none waiting",
            "alarmTotal": snapshot.alarms.values.reduce(0, +),
            "sources": sources, "dlq": dlq, "hasDLQ": !dlq.isEmpty,
            "alarms": alarms.map { alarm -> [String: Any] in
                ["at": alarm.raisedAt.rfc3339, "kind": alarm.kind.rawValue.replacingOccurrences(of: "_", with: " "),
                 "where": "\(alarm.topic)[\(alarm.partition)]", "detail": alarm.detail]
            },
            "hasAlarms": !alarms.isEmpty,
        ]
    }
}
