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
        for start in stride(from: 0, to: keys.count, by: IdentityIndexSQL.insert.maxRows) {
            let chunk = keys[start..<min(keys.count, start + IdentityIndexSQL.insert.maxRows)]
            let statement = try db.cachedStatement(sql: IdentityIndexSQL.insert.sql(rows: chunk.count)) { bind in
                for key in chunk { bind(entity.rawValue); bind(key.kind.rawValue); bind(key.value); bind(id) }
            }
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() {
                added.append((try row.decode(String.self, atIndex: 0), try row.decode(String.self, atIndex: 1)))
            }
        }
        guard !added.isEmpty else { return }
        for start in stride(from: 0, to: added.count, by: IdentityIndexSQL.count.maxRows) {
            let chunk = added[start..<min(added.count, start + IdentityIndexSQL.count.maxRows)]
            try db.execute(cached: IdentityIndexSQL.count.sql(rows: chunk.count)) { bind in
                for key in chunk { bind(entity.rawValue); bind(key.kind); bind(key.value); bind(1) }
            }
        }
    }
}

/// The multi-row statements of ``SQLiteTransaction/index(_:entity:for:)`` (8 rows: more
/// identifiers than a record has kinds are split).
enum IdentityIndexSQL {
    /// Inserts identifiers of one record; returns the kind and value of those it did not have.
    static let insert = MultiRowInsert("INSERT INTO identifiers (entity, kind, value, golden_id) VALUES ", columns: 4,
                                       tail: " ON CONFLICT DO NOTHING RETURNING kind, value", maxRows: 8)

    /// Adds `record_count` to distinct identifiers' counts (one row: merges and purges).
    static let count = MultiRowInsert("INSERT INTO identifier_counts (entity, kind, value, record_count) VALUES ", columns: 4,
                                      tail: " ON CONFLICT (entity, kind, value) DO UPDATE SET record_count = record_count + excluded.record_count",
                                      maxRows: 8)
}
