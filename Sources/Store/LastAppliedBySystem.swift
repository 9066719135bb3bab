import CRMModel
import GRDB

/// A source topic and the producing system of an event applied from it (`salesforce`, `stripe`…).
public struct SourceSystem: Sendable, Hashable, Comparable {
    public var source: String
    public var system: String

    public init(source: String, system: String) {
        self.source = source
        self.system = system
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.source, lhs.system) < (rhs.source, rhs.system)
    }
}

extension SQLiteTransaction {
    func noteApplied(_ pairs: Set<SourceSystem>, at time: Timestamp) throws {
        for pair in pairs.sorted() {
            try db.execute(cached: """
                INSERT INTO last_applied (source, system, last_at) VALUES (?, ?, ?)
                ON CONFLICT (source, system) DO UPDATE SET last_at = max(last_at, excluded.last_at)
                """, arguments: [pair.source, pair.system, time.epochMilliseconds])
        }
    }
}

extension SQLiteStore {
    /// When each source and system last had an event applied (read at scrape time).
    static func lastAppliedBySystem(_ db: Database) throws -> [SourceSystem: Timestamp] {
        var result: [SourceSystem: Timestamp] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT source, system, last_at FROM last_applied") {
            let at: Int64 = row["last_at"]
            result[SourceSystem(source: row["source"], system: row["system"])] = Timestamp(epochMilliseconds: at)
        }
        return result
    }
}

extension Schema {
    /// The time of the last applied event per source and system ("most recent successful sync per
    /// integration", for silence alerts), seeded from the remembered events of existing stores.
    /// One row per pair: systems are validated names, a handful per deployment.
    static func registerLastAppliedMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11-last-applied-by-system") { db in
            try db.execute(sql: """
                CREATE TABLE last_applied (
                    source TEXT NOT NULL,
                    system TEXT NOT NULL,
                    last_at INTEGER NOT NULL,
                    PRIMARY KEY (source, system)
                ) WITHOUT ROWID;
                INSERT INTO last_applied (source, system, last_at)
                SELECT source, system, MAX(seen_at) FROM events
                WHERE outcome = 'applied' AND source IS NOT NULL GROUP BY source, system;
                """)
        }
    }
}
