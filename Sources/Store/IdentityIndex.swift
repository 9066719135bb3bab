import CRMModel
import Dedup
import GRDB

// The identity index of a new record takes up to six identifiers at once (email, phone, the
// name keys): one statement inserts them all and names the ones that are new on the record,
// one more counts those, instead of two statements per identifier.

extension SQLiteTransaction {
    func index(_ keys: [IdentityKey], entity: Entity, for id: GoldenID) throws {
        var unique = Set<IdentityKey>()
        let keys = keys.filter { unique.insert($0).inserted }
        guard !keys.isEmpty else { return }
        var added: [(kind: String, value: String)] = []
        for chunk in stride(from: 0, to: keys.count, by: IdentityIndexSQL.maxRows).map({ keys[$0..<min(keys.count, $0 + IdentityIndexSQL.maxRows)] }) {
            let statement = try db.cachedStatement(sql: IdentityIndexSQL.insert(rows: chunk.count)) { bind in
                for key in chunk { bind(entity.rawValue); bind(key.kind.rawValue); bind(key.value); bind(id) }
            }
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() {
                added.append((try row.decode(String.self, atIndex: 0), try row.decode(String.self, atIndex: 1)))
            }
        }
        guard !added.isEmpty else { return }
        for start in stride(from: 0, to: added.count, by: IdentityIndexSQL.maxRows) {
            let chunk = added[start..<min(added.count, start + IdentityIndexSQL.maxRows)]
            try db.execute(cached: IdentityIndexSQL.count(rows: chunk.count)) { bind in
                for key in chunk { bind(entity.rawValue); bind(key.kind); bind(key.value); bind(1) }
            }
        }
    }
}

/// The multi-row statements of ``SQLiteTransaction/index(_:entity:for:)``, one text per row count.
enum IdentityIndexSQL {
    /// More identifiers than a record has kinds are split into statements of this many rows.
    static let maxRows = 8

    private static let inserts = (1...maxRows).map { rows in
        "INSERT INTO identifiers (entity, kind, value, golden_id) VALUES "
            + Array(repeating: "(?, ?, ?, ?)", count: rows).joined(separator: ", ")
            + " ON CONFLICT DO NOTHING RETURNING kind, value"
    }

    private static let counts = (1...maxRows).map { rows in
        "INSERT INTO identifier_counts (entity, kind, value, record_count) VALUES "
            + Array(repeating: "(?, ?, ?, ?)", count: rows).joined(separator: ", ")
            + " ON CONFLICT (entity, kind, value) DO UPDATE SET record_count = record_count + excluded.record_count"
    }

    /// Inserts `rows` identifiers of one record; returns the kind and value of those it did not have.
    static func insert(rows: Int) -> String { inserts[rows - 1] }

    /// Adds `record_count` to `rows` distinct identifiers' counts.
    static func count(rows: Int) -> String { counts[rows - 1] }
}
