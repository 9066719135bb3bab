import CRMModel
import GRDB

/// Input events by source, system and outcome: the labels of `crmsync_events_total`.
public struct EventCountKey: Sendable, Hashable {
    public var source: String
    public var system: String
    public var outcome: String

    public init(source: String, system: String, outcome: String) {
        self.source = source
        self.system = system
        self.outcome = outcome
    }
}

/// How many events of one key were processed since some time (a sum of hour buckets).
public struct EventWindowCount: Sendable, Hashable {
    public var key: EventCountKey
    public var count: Int64
}

/// Hour buckets of processed events (``HourBucket``), so the console can show "the last hour" and "the last day"
/// across restarts: the process's Prometheus counters start at zero on every start, the store's
/// outcome counters have no time axis. Written once per batch from the batch's summary (the
/// same numbers `crmsync_events_total` adds), one upsert per key in the batch.
public enum HourBucket {
    public static let milliseconds: Int64 = 3_600_000

    /// The start (epoch ms) of the hour bucket `time` falls into.
    public static func start(of time: Timestamp) -> Int64 {
        let ms = time.epochMilliseconds
        return ms - ((ms % milliseconds) + milliseconds) % milliseconds
    }
}

extension SQLiteTransaction {
    func countEvents(_ counts: [EventCountKey: Int], at time: Timestamp) throws {
        let hour = HourBucket.start(of: time)
        for (key, count) in counts where count > 0 {
            try db.execute(cached: """
                INSERT INTO event_counts_hourly (hour, source, system, outcome, count) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (hour, source, system, outcome) DO UPDATE SET count = count + excluded.count
                """, arguments: [hour, key.source, key.system, key.outcome, count])
        }
    }

    func eventCounts(sinceHour hour: Int64) throws -> [EventWindowCount] {
        try Row.fetchAll(cached: db, sql: """
            SELECT source, system, outcome, sum(count) AS n FROM event_counts_hourly
            WHERE hour >= ? GROUP BY source, system, outcome ORDER BY source, system, outcome
            """, arguments: [hour]).map { row in
            EventWindowCount(key: EventCountKey(source: try row.decode(String.self, forColumn: "source"),
                                                system: try row.decode(String.self, forColumn: "system"),
                                                outcome: try row.decode(String.self, forColumn: "outcome")),
                             count: try row.decode(Int64.self, forColumn: "n"))
        }
    }
}

extension Schema {
    /// Hour buckets of processed events (from this version on; events before it were not bucketed).
    /// The primary key starts with the hour, so a window is one range of it.
    static func registerHourlyEventCountMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10-event-counts-hourly") { db in
            try db.execute(sql: """
                CREATE TABLE event_counts_hourly (
                    hour INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    system TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (hour, source, system, outcome)
                ) WITHOUT ROWID;
                """)
        }
    }
}
