import CRMModel
import GRDB

/// What the store says about the pipeline's health right now, for metrics read at scrape time
/// (they survive restarts, unlike the process's counters).
public struct OperationsSnapshot: Sendable, Hashable {
    /// Outbox rows waiting to be published (parked rows excluded).
    public var outboxUnsent: Int
    /// When the oldest of them was written; nil when there is none.
    public var oldestUnsentAt: Timestamp?
    /// Rows parked as undeliverable.
    public var outboxParked: Int
    /// Open review requests.
    public var openReviews: Int
    /// Alarms raised, by kind (every kind present, 0 when never raised).
    public var alarms: [Alarm.Kind: Int]
    /// When each source last had an event applied.
    public var lastAppliedAt: [String: Timestamp]
    /// When each source and producing system last had an event applied.
    public var lastAppliedBySystem: [SourceSystem: Timestamp] = [:]
}

extension SQLiteStore {
    /// Counts with indexed queries: cheap enough for every scrape.
    public func operationsSnapshot() throws(StoreError) -> OperationsSnapshot {
        do {
            return try readRaw { db in
                let unsent = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL")
                let parked = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE parked_at IS NOT NULL") ?? 0
                let reviews = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM review_requests WHERE status = ?", arguments: [ReviewStatus.open.rawValue]) ?? 0
                var alarms = Dictionary(uniqueKeysWithValues: Alarm.Kind.allCases.map { ($0, 0) })
                for row in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM alarms GROUP BY kind") {
                    if let kind = Alarm.Kind(rawValue: row["kind"]) { alarms[kind] = row["n"] }
                }
                var lastApplied: [String: Timestamp] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT source, last_at FROM outcome_counters WHERE outcome = ? AND last_at IS NOT NULL",
                                            arguments: [EventOutcome.applied.rawValue]) {
                    let at: Int64 = row["last_at"]
                    lastApplied[row["source"]] = Timestamp(epochMilliseconds: at)
                }
                let oldest: Int64? = unsent?["oldest"]
                return OperationsSnapshot(outboxUnsent: unsent?["n"] ?? 0, oldestUnsentAt: oldest.map(Timestamp.init(epochMilliseconds:)),
                                          outboxParked: parked, openReviews: reviews, alarms: alarms, lastAppliedAt: lastApplied,
                                          lastAppliedBySystem: try Self.lastAppliedBySystem(db))
            }
        } catch {
            throw Self.wrap(error, "operations snapshot")
        }
    }

    /// Whether a write transaction can start within `timeoutMilliseconds` (another process holding
    /// the write lock, a read-only file or a full disk say no). Writes nothing.
    public func probeWritable(timeoutMilliseconds: Int = 500) throws(StoreError) {
        do {
            try writeRaw { db in
                try db.execute(sql: "PRAGMA busy_timeout = \(max(0, timeoutMilliseconds))")
                defer { try? db.execute(sql: "PRAGMA busy_timeout = 5000") }
                // A write statement takes the write lock even when it changes no row.
                try db.execute(sql: "UPDATE consumed_offsets SET next_offset = next_offset WHERE 0")
            }
        } catch {
            throw Self.wrap(error, "probing the store for writes")
        }
    }
}
