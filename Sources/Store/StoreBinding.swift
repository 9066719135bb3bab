import CRMModel
import Foundation
import GRDB

/// Which consumer group on which Kafka cluster a store belongs to, recorded on the first
/// `crmsync run`: a store's consumed offsets are only right for that group, and two stores in
/// one group would each resume from their own stale offsets after every rebalance.
public struct StoreBinding: Sendable, Hashable {
    /// A random id of the store, made once (shown in alarms; written as commit metadata).
    public var storeID: String
    public var groupID: String
    public var clusterID: String
    public var boundAt: Timestamp

    public init(storeID: String, groupID: String, clusterID: String, boundAt: Timestamp) {
        self.storeID = storeID
        self.groupID = groupID
        self.clusterID = clusterID
        self.boundAt = boundAt
    }
}

extension Schema {
    static func registerStoreBindingMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-correct-store-binding") { db in
            try db.execute(sql: """
                -- One row: the consumer group and cluster this store belongs to.
                CREATE TABLE store_binding (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    store_id TEXT NOT NULL,
                    group_id TEXT NOT NULL,
                    cluster_id TEXT NOT NULL,
                    bound_at INTEGER NOT NULL
                );
                """)
        }
    }
}

extension SQLiteStore {
    /// The store's binding, if a `crmsync run` recorded one.
    public func binding() throws(StoreError) -> StoreBinding? {
        do {
            return try readRaw { db in
                try Row.fetchOne(db, sql: "SELECT * FROM store_binding WHERE id = 1").map { row in
                    StoreBinding(storeID: row["store_id"], groupID: row["group_id"], clusterID: row["cluster_id"],
                                 boundAt: Timestamp(epochMilliseconds: row["bound_at"]))
                }
            }
        } catch {
            throw Self.wrap(error, "reading the store binding")
        }
    }

    /// Records (or, adopting, replaces) the group and cluster; the store id stays once made.
    @discardableResult
    public func bind(groupID: String, clusterID: String, at time: Timestamp) throws(StoreError) -> StoreBinding {
        do {
            return try writeRaw { db in
                let storeID = try String.fetchOne(db, sql: "SELECT store_id FROM store_binding WHERE id = 1") ?? UUID().uuidString.lowercased()
                try db.execute(sql: """
                    INSERT INTO store_binding (id, store_id, group_id, cluster_id, bound_at) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, cluster_id = excluded.cluster_id, bound_at = excluded.bound_at
                    """, arguments: [storeID, groupID, clusterID, time.epochMilliseconds])
                return StoreBinding(storeID: storeID, groupID: groupID, clusterID: clusterID, boundAt: time)
            }
        } catch {
            throw Self.wrap(error, "recording the store binding")
        }
    }

    /// Whether the store holds anything a run produced (records, remembered events, outbox rows,
    /// consumed offsets, or a binding to a group): `crmsync demo` refuses such a store.
    public func holdsData() throws(StoreError) -> Bool {
        do {
            return try readRaw { db in
                for table in ["records", "events", "outbox", "consumed_offsets", "store_binding"] {
                    if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table))") == true { return true }
                }
                return false
            }
        } catch {
            throw Self.wrap(error, "looking into the store")
        }
    }
}
