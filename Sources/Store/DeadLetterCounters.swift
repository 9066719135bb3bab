import CRMModel
import GRDB

/// How many dead letters of one error class crmsync has written, and when the latest was.
///
/// The outbox forgets a dead letter once the relay has published it, so the store counts them
/// by class as it writes them (for the console's health page, which must not read Kafka).
public struct DeadLetterCount: Sendable, Hashable {
    public var errorClass: String
    public var count: Int64
    public var lastAt: Timestamp
}

extension SQLiteTransaction {
    func countDeadLetters(_ byClass: [String: Int], at time: Timestamp) throws {
        for (errorClass, count) in byClass where count > 0 {
            try db.execute(cached: """
                INSERT INTO dead_letter_counters (error_class, count, last_at) VALUES (?, ?, ?)
                ON CONFLICT (error_class) DO UPDATE SET count = count + excluded.count, last_at = max(last_at, excluded.last_at)
                """, arguments: [errorClass, count, time.epochMilliseconds])
        }
    }

    func deadLetterCounts() throws -> [DeadLetterCount] {
        try Row.fetchAll(cached: db, sql: "SELECT * FROM dead_letter_counters ORDER BY count DESC, error_class").map { row in
            DeadLetterCount(errorClass: try row.decode(String.self, forColumn: "error_class"), count: try row.decode(Int64.self, forColumn: "count"),
                            lastAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "last_at")))
        }
    }
}

extension Schema {
    /// Dead letters counted by error class as they are written (from this version on: the ones
    /// written before were not counted, and delivered ones are no longer in the outbox).
    static func registerDeadLetterCounterMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9-dead-letter-counters") { db in
            try db.execute(sql: """
                CREATE TABLE dead_letter_counters (
                    error_class TEXT PRIMARY KEY,
                    count INTEGER NOT NULL,
                    last_at INTEGER NOT NULL
                );
                """)
        }
    }
}
