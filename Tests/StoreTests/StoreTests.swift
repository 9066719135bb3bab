import CRMModel
import Dedup
import Foundation
import GRDB
import Store
import Testing

/// A fresh directory for one test's store file, removed afterwards.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

let t0 = Timestamp(epochMilliseconds: 1_764_000_000_000)

@Suite("Store: migrations and opening")
struct MigrationTests {
    @Test("migrations apply on an empty database, in WAL mode, and are idempotent")
    func migrations() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        let store = try SQLiteStore(path: path)
        #expect(try store.appliedMigrations() == SQLiteStore.migrationIdentifiers)
        #expect(!SQLiteStore.migrationIdentifiers.isEmpty)
        let tables = try store.readRaw { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
        }
        #expect(tables == ["alarms", "audit_heads", "audit_log", "consumed_offsets", "crosswalk", "dead_letter_counters", "dlq_replay_runs", "dlq_replayed", "events",
                           "identifier_counts", "identifiers", "last_applied", "merges", "near_matches", "outbox", "outcome_counters", "records", "review_requests",
                           "store_binding"])
        #expect(try store.readRaw { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        try store.write { tx in try tx.insertRecord(GoldenRecord(id: "c-1", entity: .contact, createdAt: t0, updatedAt: t0)) }

        // Opening again applies nothing and keeps the data.
        let again = try SQLiteStore(path: path)
        #expect(try again.appliedMigrations() == SQLiteStore.migrationIdentifiers)
        #expect(try again.read { try $0.record("c-1")?.id } == "c-1")
        let schema = { (store: SQLiteStore) in
            try store.readRaw { try String.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name") }
        }
        #expect(try schema(store) == schema(again))
    }

    @Test("a read-only open of a missing store is a one-line error and creates nothing")
    func missingStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("nope.sqlite")
        #expect {
            _ = try SQLiteStore.openForReading(path: path)
        } throws: { error in
            (error as? StoreError)?.kind == .missingStore && !"\(error)".contains("\n")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a store awaiting a migration is told apart by its kind, not its message (dlq treats it as having no ledger)")
    func storeAwaitingMigration() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            let last = try #require(SQLiteStore.migrationIdentifiers.last)
            try store.writeRaw { db in try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [last]) }
        }
        #expect {
            _ = try SQLiteStore.openForReading(path: path)
        } throws: { error in
            (error as? StoreError)?.kind == .needsMigration
        }
    }

    @Test("a store can be read after its writer closed (no -wal/-shm files left)")
    func readAfterWriterClosed() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            try store.write { try $0.insertRecord(GoldenRecord(id: "c-1", entity: .contact, createdAt: t0, updatedAt: t0)) }
        }
        let reader = try SQLiteStore.openForReading(path: path)
        #expect(try reader.read { try $0.record("c-1")?.id } == "c-1")
    }

    @Test("a file that is not a store is refused")
    func notAStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("junk.sqlite")
        try Data("definitely not sqlite, just text that is long enough to have a header".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { _ = try SQLiteStore.openForReading(path: path) }
    }

    @Test("readers see committed data while a writer holds its transaction open")
    func concurrentRead() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        let store = try SQLiteStore(path: path)
        try store.write { try $0.insertRecord(GoldenRecord(id: "c-1", entity: .contact, createdAt: t0, updatedAt: t0)) }
        let reader = try SQLiteStore.openForReading(path: path)
        try store.write { tx throws in
            try tx.insertRecord(GoldenRecord(id: "c-2", entity: .contact, createdAt: t0, updatedAt: t0))
            // Inside the open write transaction, another connection reads the last committed state.
            #expect(try reader.read { try $0.recordCounts()[.contact] } == 1)
        }
        #expect(try reader.read { try $0.recordCounts()[.contact] } == 2)
        #expect(reader.isReadOnly)
        #expect(throws: (any Error).self) {
            try reader.write { try $0.insertRecord(GoldenRecord(id: "c-3", entity: .contact, createdAt: t0, updatedAt: t0)) }
        }
    }
}

@Suite("Store: operations")
struct OperationTests {
    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore(path: directory.path("store.sqlite"))
    }

    @Test("records round-trip with typed fields, provenance, consent and policy state")
    func recordRoundTrip() throws {
        let record = GoldenRecord(
            id: "c-1", entity: .contact, version: 0,
            fields: ["email": .string("a@acme.com"), "lead_score": .number(Decimal(string: "12.5") ?? 0),
                     "last_seen_at": .timestamp(t0), "email_opt_out": .bool(true), "industry": .null],
            provenance: ["email": Provenance(source: .crm, system: "salesforce", eventID: "e1", occurredAt: t0, rule: "owner")],
            consent: [ConsentRecord(channel: "email", granted: false, at: t0, source: .map, system: "hubspot")],
            policyState: Data([0, 1, 2, 255]), createdAt: t0, updatedAt: t0)
        try store.write { try $0.insertRecord(record) }
        #expect(try store.read { try $0.record("c-1") } == record)
        #expect(throws: StoreError.self) { try store.write { try $0.insertRecord(record) } }

        var next = record
        next.version = 1
        next.fields["first_name"] = .string("Ann")
        try store.write { try $0.updateRecord(next) }
        #expect(try store.read { try $0.record("c-1") } == next)
        // A stale writer (same version again) is refused, and nothing changes.
        #expect {
            try store.write { try $0.updateRecord(next) }
        } throws: { ($0 as? StoreError)?.kind == .versionConflict }
    }

    @Test("a failed batch rolls back records, outbox rows and offsets together")
    func atomicBatch() throws {
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.write { tx throws in
                try tx.insertRecord(GoldenRecord(id: "c-1", entity: .contact, createdAt: t0, updatedAt: t0))
                try tx.enqueue(OutboxMessage(topic: "golden.records.v1", key: Data("c-1".utf8), value: Data("{}".utf8), createdAt: t0))
                try tx.commitOffset(topic: "crm.events.v1", partition: 0, next: 10)
                throw Boom()
            }
        }
        try store.read { reader throws in
            #expect(try reader.record("c-1") == nil)
            #expect(try reader.unsentOutbox(limit: 10).isEmpty)
            #expect(try reader.consumedOffsets(topic: "crm.events.v1").isEmpty)
        }
    }

    @Test("a savepoint rolls back one message's writes; the rest of the batch commits")
    func savepointRollsBackOneMessage() throws {
        struct Poison: Error {}
        try store.write { tx in
            try tx.insertRecord(GoldenRecord(id: "c-kept", entity: .contact, createdAt: t0, updatedAt: t0))
            #expect(throws: Poison.self) {
                try tx.savepoint {
                    try tx.insertRecord(GoldenRecord(id: "c-rolled-back", entity: .contact, createdAt: t0, updatedAt: t0))
                    throw Poison()
                }
            }
            let kept = try tx.savepoint { () -> Int64 in
                try tx.enqueue(OutboxMessage(topic: "t", key: nil, value: Data([1]), createdAt: t0))
            }
            #expect(kept > 0)
        }
        #expect(try store.read { try $0.record("c-kept") } != nil)
        #expect(try store.read { try $0.record("c-rolled-back") } == nil)
        #expect(try store.read { try $0.unsentOutbox(limit: 10).count } == 1)
    }

    @Test("outbox headers keep binary, empty and null values apart (dead letters carry original headers untouched)")
    func outboxBinaryHeaders() throws {
        let headers = [OutboxHeader("bin", bytes: Data([0, 255, 128, 10])), OutboxHeader("empty", bytes: Data()), OutboxHeader("null", bytes: nil)]
        _ = try store.write { tx in
            try tx.enqueue(OutboxMessage(topic: "dlq.events.v1", key: nil, value: Data([0xFF, 0xFE]), headers: headers, createdAt: t0))
        }
        let row = try #require(try store.read { try $0.unsentOutbox(limit: 1) }.first)
        #expect(row.message.headers == headers)
        #expect(row.message.value == Data([0xFF, 0xFE]))
        #expect(row.message.key == nil)
    }

    @Test("outbox: unsent rows in order, marking sent, lookup by topic and key")
    func outbox() throws {
        let ids = try store.write { tx throws in
            try (0..<5).map { index in
                try tx.enqueue(OutboxMessage(topic: index % 2 == 0 ? "audit.events.v1" : "golden.records.v1",
                                             key: Data("c-\(index % 2)".utf8), value: Data("v\(index)".utf8),
                                             headers: [OutboxHeader("ce_id", "id-\(index)"), OutboxHeader("content-type", "application/json")],
                                             createdAt: t0))
            }
        }
        #expect(ids == ids.sorted())
        let unsent = try store.read { try $0.unsentOutbox(limit: 3) }
        #expect(unsent.map(\.id) == Array(ids.prefix(3)))
        #expect(unsent.first?.message.headers == [OutboxHeader("ce_id", "id-0"), OutboxHeader("content-type", "application/json")])
        try store.write { try $0.markSent(unsent.map(\.id), at: t0) }
        #expect(try store.read { try $0.unsentOutbox(limit: 10).map(\.id) } == Array(ids.suffix(2)))
        let audit = try store.read { try $0.outbox(topic: "audit.events.v1", key: Data("c-0".utf8)) }
        #expect(audit.map { String(decoding: $0.message.value, as: UTF8.self) } == ["v0", "v2", "v4"])
        #expect(audit.first?.sentAt == t0)
    }

    @Test("offsets, remembered events with retention, counters and audit heads")
    func bookkeeping() throws {
        try store.write { tx throws in
            try tx.commitOffset(topic: "crm.events.v1", partition: 0, next: 10)
            try tx.commitOffset(topic: "crm.events.v1", partition: 1, next: 5)
            try tx.commitOffset(topic: "crm.events.v1", partition: 0, next: 12)
            #expect(try tx.rememberEvent(RememberedEvent(system: "salesforce", eventID: "old", source: .crm, outcome: .applied,
                                                         goldenID: "c-1", seenAt: t0)))
            #expect(try tx.rememberEvent(RememberedEvent(system: "salesforce", eventID: "new", source: .crm, outcome: .review,
                                                         goldenID: nil, seenAt: Timestamp(epochMilliseconds: t0.epochMilliseconds + 100 * 86_400_000))))
            #expect(try !tx.rememberEvent(RememberedEvent(system: "salesforce", eventID: "old", source: .crm, outcome: .duplicate,
                                                          goldenID: nil, seenAt: t0)))
            try tx.updateEventOutcome(system: "salesforce", eventID: "new", outcome: .applied, goldenID: "c-2")
            try tx.countOutcome(.applied, source: "crm", at: t0)
            try tx.countOutcome(.applied, source: "crm", at: Timestamp(epochMilliseconds: t0.epochMilliseconds + 5))
            try tx.countOutcome(.duplicate, source: "map", at: t0)
            try tx.advanceAuditHead(of: "c-1", to: AuditHead(seq: 1, lastHash: "h1"))
            try tx.advanceAuditHead(of: "c-1", to: AuditHead(seq: 2, lastHash: "h2"))
            #expect {
                try tx.advanceAuditHead(of: "c-1", to: AuditHead(seq: 4, lastHash: "h4"))
            } throws: { ($0 as? StoreError)?.kind == .auditGap }
        }
        try store.read { reader throws in
            #expect(try reader.consumedOffsets(topic: "crm.events.v1") == [0: 12, 1: 5])
            #expect(try reader.rememberedEvent(system: "salesforce", eventID: "old")?.outcome == .applied)
            #expect(try reader.rememberedEvent(system: "hubspot", eventID: "old") == nil)
            #expect(try reader.rememberedEvent(system: "salesforce", eventID: "new")?.goldenID == "c-2")
            #expect(try reader.auditHead(of: "c-1") == AuditHead(seq: 2, lastHash: "h2"))
            let counts = try reader.outcomeCounts()
            #expect(counts.count == 2)
            #expect(counts.first { $0.source == "crm" }?.count == 2)
            #expect(counts.first { $0.source == "crm" }?.lastAt == Timestamp(epochMilliseconds: t0.epochMilliseconds + 5))
        }
        // Retention: the default after the first event (before the second), only it is forgotten.
        let purged = try store.purgeEventIDs(olderThan: Timestamp(epochMilliseconds: t0.epochMilliseconds + SQLiteStore.defaultEventRetentionMilliseconds))
        #expect(purged == 1)
        #expect(try store.read { try $0.rememberedEvent(system: "salesforce", eventID: "old") } == nil)
        #expect(try store.read { try $0.rememberedEvent(system: "salesforce", eventID: "new") } != nil)
    }

    @Test("review requests open once, list by status, resolve once")
    func reviews() throws {
        let request = ReviewRequest(id: "rv-1", goldenID: "c-1", kind: .identity, reason: "name_company_only", eventID: "e1",
                                    payload: Data(#"{"x":1}"#.utf8),
                                    candidates: [ScoredCandidate(goldenID: "c-1", score: 0.9, tier: .nameCompany, reasons: ["same last name"])],
                                    createdAt: t0)
        try store.write { tx throws in
            #expect(try tx.openReviewRequest(request))
            #expect(try !tx.openReviewRequest(request))
        }
        #expect(try store.read { try $0.reviewRequest("rv-1") } == request)
        #expect(try store.read { try $0.reviewRequests(status: .open, limit: 10).map(\.id) } == ["rv-1"])
        try store.write { try $0.resolveReviewRequest("rv-1", status: .approved, at: t0) }
        #expect(try store.read { try $0.reviewRequest("rv-1")?.status } == .approved)
        #expect(try store.read { try $0.reviewRequests(status: .open, limit: 10) }.isEmpty)
        #expect {
            try store.write { try $0.resolveReviewRequest("rv-1", status: .rejected, at: t0) }
        } throws: { ($0 as? StoreError)?.kind == .notFound }
    }

    @Test("merging moves crosswalk entries and identifiers, keeps counts exact, leaves a tombstone")
    func merge() throws {
        try store.write { tx throws in
            for id in ["c-a", "c-b", "c-old"] {
                try tx.insertRecord(GoldenRecord(id: id, entity: .contact, createdAt: t0, updatedAt: t0))
            }
            try tx.link(ExternalReference(system: "salesforce", id: "1"), entity: .contact, to: "c-a", eventID: "e1", at: t0)
            try tx.link(ExternalReference(system: "hubspot", id: "2"), entity: .contact, to: "c-b", eventID: "e2", at: t0)
            try tx.index([.email("x@acme.com"), .phone("+14155550100")], entity: .contact, for: "c-a")
            try tx.index([.email("x@acme.com"), .email("y@acme.com")], entity: .contact, for: "c-b")
            // c-old was merged into c-b earlier: after c-b goes into c-a, it must point at c-a.
            try tx.mergeIdentity(absorbed: "c-old", into: "c-b", reason: "explicit_merge", eventID: "e0", at: t0)
        }
        #expect(try store.read { try $0.records(with: .email("x@acme.com"), entity: .contact, limit: 5).total } == 2)
        let entry = try store.write { tx throws in
            try tx.mergeIdentity(absorbed: "c-b", into: "c-a", reason: "shared_identifier", eventID: "e3", at: t0)
        }
        #expect(entry.absorbedExternalIDs == ["hubspot": ["2"]])
        try store.read { reader throws in
            #expect(try reader.records(with: .email("x@acme.com"), entity: .contact, limit: 5) == IdentifierMatch(recordIDs: ["c-a"], total: 1))
            #expect(try reader.records(with: .email("y@acme.com"), entity: .contact, limit: 5) == IdentifierMatch(recordIDs: ["c-a"], total: 1))
            #expect(try reader.goldenID(for: ExternalReference(system: "hubspot", id: "2"), entity: .contact) == "c-a")
            #expect(try reader.record("c-b")?.mergedInto == "c-a")
            #expect(try reader.record("c-b")?.version == 1)
            #expect(try reader.record("c-old")?.mergedInto == "c-a")
            #expect(try reader.liveRecord("c-old")?.id == "c-a")
            #expect(try reader.identity(of: "c-b").keys.isEmpty)
            #expect(try reader.identity(of: "c-a").keys == [.email("x@acme.com"), .email("y@acme.com"), .phone("+14155550100")])
            #expect(try reader.merges(involving: "c-a").map(\.absorbedID) == ["c-b"])
            #expect(try reader.merges(involving: "c-b").map(\.absorbedID) == ["c-old", "c-b"])
            #expect(try reader.recordCounts()[.contact] == 1)
        }
        #expect {
            try store.write { try $0.mergeIdentity(absorbed: "c-b", into: "c-a", reason: "x", eventID: nil, at: t0) }
        } throws: { ($0 as? StoreError)?.kind == .invalidMerge }
    }

    @Test("the golden record document has every member of docs/contract.md#golden-record, nulls included")
    func document() throws {
        try store.write { tx throws in
            try tx.insertRecord(GoldenRecord(id: "c-1", entity: .contact, version: 0, fields: ["email": .string("a@acme.com")],
                                             createdAt: t0, updatedAt: t0))
            try tx.link(ExternalReference(system: "salesforce", id: "003"), entity: .contact, to: "c-1", eventID: nil, at: t0)
        }
        let document = try store.read { try GoldenRecordDocument.load("c-1", from: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(document)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(Set(object?.keys.map { $0 } ?? []) == ["id", "entity", "version", "fields", "provenance", "external_ids", "consent",
                                                        "deleted_at", "merged_into", "updated_at"])
        #expect(object?["deleted_at"] is NSNull)
        #expect((object?["external_ids"] as? [String: [String]]) == ["salesforce": ["003"]])
    }
}
