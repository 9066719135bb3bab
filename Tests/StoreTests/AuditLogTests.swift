import CRMModel
import Foundation
import GRDB
import Store
import Testing

@Suite("Store: the audit log and delivered outbox rows")
struct AuditLogTests {
    private func auditJSON(_ goldenID: String, seq: Int) -> Data {
        Data(#"{"audit_id":"\#(goldenID)#\#(seq)","golden_id":"\#(goldenID)","seq":\#(seq),"prev_hash":"h\#(seq - 1)","hash":"h\#(seq)"}"#.utf8)
    }

    @Test("audit events are read per record in seq order, paged in write order, and newest first")
    func readsTheLog() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        try store.write { tx in
            for (id, seq) in [("c-1", 1), ("c-2", 1), ("c-1", 2), ("c-1", 3)] {
                try tx.appendAuditLog(AuditLogEntry(goldenID: id, seq: Int64(seq), value: auditJSON(id, seq: seq)))
            }
        }
        let (ofRecord, paged, latest) = try store.read { reader in
            (try reader.auditLog(of: "c-1"), try reader.auditLog(afterID: 1, limit: 2), try reader.latestAuditLog(limit: 2))
        }
        #expect(ofRecord.map(\.seq) == [1, 2, 3])
        #expect(ofRecord.first?.value == auditJSON("c-1", seq: 1))
        #expect(paged.map { "\($0.goldenID)#\($0.seq)" } == ["c-2#1", "c-1#2"])
        #expect(latest.map { "\($0.goldenID)#\($0.seq)" } == ["c-1#3", "c-1#2"])
        // A second event at the same place of a chain is refused.
        #expect(throws: (any Error).self) {
            try store.write { try $0.appendAuditLog(AuditLogEntry(goldenID: "c-1", seq: 2, value: Data("x".utf8))) }
        }
    }

    @Test("delivered rows leave the outbox; parked rows stay")
    func deliveredRowsAreDeleted() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        let ids = try store.write { tx throws in
            try (0..<3).map { index in
                try tx.enqueue(OutboxMessage(topic: "golden.records.v1", key: Data("c-\(index)".utf8), value: Data("v\(index)".utf8),
                                             headers: [], createdAt: t0))
            }
        }
        try store.write { tx in
            try tx.parkOutbox(ids[2], reason: "too large", at: t0)
            try tx.deleteDelivered(ids)
        }
        #expect(try store.read { try $0.unsentOutbox(limit: 10) }.isEmpty)
        #expect(try store.read { try $0.parkedOutboxCount() } == 1)
        #expect(try store.readRaw { try Int.fetchOne($0, sql: "SELECT count(*) FROM outbox") } == 1)
    }

    @Test("migrating a store that kept audit events in the outbox moves them to the audit log and drops delivered rows")
    func migrationBackfills() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            // Back to the state before the audit log: audit events only in the outbox, some sent.
            try store.writeRaw { db in
                try db.execute(sql: "DROP TABLE audit_log; DELETE FROM grdb_migrations WHERE identifier = 'v8-perf-audit-log'")
                for (seq, sent) in [(1, true), (2, false)] {
                    try db.execute(sql: "INSERT INTO outbox (topic, key, value, headers, created_at, sent_at) VALUES (?, ?, ?, '[]', 0, ?)",
                                   arguments: ["audit.events.v1", Data("c-1".utf8), auditJSON("c-1", seq: seq), sent ? 1 : nil])
                }
                try db.execute(sql: "INSERT INTO outbox (topic, key, value, headers, created_at, sent_at) VALUES (?, ?, ?, '[]', 0, 1)",
                               arguments: ["golden.records.v1", Data("c-1".utf8), Data(#"{"id":"c-1","version":1}"#.utf8)])
                try db.execute(sql: "INSERT INTO outbox (topic, key, value, headers, created_at, sent_at) VALUES (?, ?, ?, '[]', 0, 1)",
                               arguments: ["dlq.events.v1", Data("k".utf8), Data([0xFF, 0x00, 0x7B])])
            }
        }
        let store = try SQLiteStore(path: path)
        #expect(try store.appliedMigrations() == SQLiteStore.migrationIdentifiers)
        let log = try store.read { try $0.auditLog(of: "c-1") }
        #expect(log.map(\.seq) == [1, 2])
        #expect(log.map(\.value) == [auditJSON("c-1", seq: 1), auditJSON("c-1", seq: 2)])
        // Only the unsent audit event is left to publish.
        let unsent = try store.read { try $0.unsentOutbox(limit: 10) }
        #expect(unsent.map(\.message.value) == [auditJSON("c-1", seq: 2)])
        #expect(try store.readRaw { try Int.fetchOne($0, sql: "SELECT count(*) FROM outbox") } == 1)
    }
}
