import Foundation
import GRDB

/// The store's ceiling: how many "look up a record by match key, upsert its document, append an
/// audit row" units SQLite does per second on this machine, in the store's own settings (WAL,
/// `synchronous = FULL`, one transaction per 1,000 rows, cached statements). No crmsync logic
/// runs here: it is the most the write stage could reach if everything else cost nothing.
public enum StoreCeiling {
    public struct Result: Sendable {
        public var rows: Int
        public var seconds: Double
        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    /// Writes `rows` units into a scratch database in `directory` (removed afterwards). Keys
    /// repeat like the workload's: about one row in three updates an existing record.
    public static func measure(rows: Int, documentBytes: Int = 1_500, auditBytes: Int = 700, directory: URL) throws -> Result {
        let path = directory.appendingPathComponent("store-ceiling-\(getpid()).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE record (id INTEGER PRIMARY KEY, match_key TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, document BLOB NOT NULL);
                CREATE TABLE audit (id INTEGER PRIMARY KEY, record_id INTEGER NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL);
                CREATE INDEX audit_by_record ON audit(record_id, seq);
                """)
        }
        let document = Data(repeating: UInt8(ascii: "d"), count: documentBytes)
        let audit = Data(repeating: UInt8(ascii: "a"), count: auditBytes)
        let started = DispatchTime.now().uptimeNanoseconds
        var written = 0
        var created = 0
        while written < rows {
            let chunk = min(1_000, rows - written)
            try pool.write { db in
                let find = try db.cachedStatement(sql: "SELECT id, version FROM record WHERE match_key = ?")
                let insert = try db.cachedStatement(sql: "INSERT INTO record (match_key, version, document) VALUES (?, 1, ?)")
                let update = try db.cachedStatement(sql: "UPDATE record SET version = ?, document = ? WHERE id = ?")
                let append = try db.cachedStatement(sql: "INSERT INTO audit (record_id, seq, body) VALUES (?, ?, ?)")
                for row in written..<(written + chunk) {
                    // Every third row updates a record made earlier; the rest create one.
                    let key = row % 3 == 2 && created > 0 ? "k\((row * 7_919) % created)" : "k\(created)"
                    let recordID: Int64
                    let version: Int64
                    if let found = try Row.fetchOne(find, arguments: [key]) {
                        recordID = found[0]
                        version = found[1] + 1
                        try update.execute(arguments: [version, document, recordID])
                    } else {
                        try insert.execute(arguments: [key, document])
                        recordID = db.lastInsertedRowID
                        version = 1
                        created += 1
                    }
                    try append.execute(arguments: [recordID, version, audit])
                }
            }
            written += chunk
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return Result(rows: rows, seconds: seconds)
    }
}
