import CRMModel
import Foundation
import GRDB
import Testing
@testable import Store

@Suite("Store: the operations snapshot and the write probe")
struct OperationsSnapshotTests {
    @Test("backlog, oldest unsent row, parked rows, open reviews, alarms and last applied per source, exactly")
    func snapshot() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        let empty = try store.operationsSnapshot()
        #expect(empty.outboxUnsent == 0 && empty.oldestUnsentAt == nil && empty.openReviews == 0)
        #expect(empty.alarms == [.offsetOutOfRange: 0, .foreignStore: 0, .unreadableBatch: 0], "every kind present, 0 when never raised")
        let later = Timestamp(epochMilliseconds: t0.epochMilliseconds + 60_000)
        let ids = try store.write { tx in
            let ids = try (0..<4).map { index in
                try tx.enqueue(OutboxMessage(topic: "golden.records.v1", key: nil, value: Data([1]), createdAt: index == 0 ? t0 : later))
            }
            try tx.raiseAlarm(Alarm(kind: .offsetOutOfRange, topic: "crm.events.v1", partition: 0, lostFrom: 1, lostTo: 2, resumedAt: 3,
                                    detail: "x", raisedAt: t0))
            try tx.countOutcome(.applied, source: "crm", at: t0)
            try tx.countOutcome(.applied, source: "crm", at: later)
            try tx.countOutcome(.deadLettered, source: "billing", at: later)
            _ = try tx.openReviewRequest(ReviewRequest(id: "rv-1", goldenID: nil, kind: .identity, reason: "ambiguous", eventID: "e1",
                                                       payload: Data(), candidates: [], createdAt: t0))
            return ids
        }
        try store.write { tx in
            try tx.markSent([ids[0]], at: later)
            try tx.parkOutbox(ids[1], reason: "too large", at: later)
        }
        let snapshot = try store.operationsSnapshot()
        #expect(snapshot.outboxUnsent == 2)
        #expect(snapshot.oldestUnsentAt == later, "the sent row written at t0 no longer counts")
        #expect(snapshot.outboxParked == 1)
        #expect(snapshot.openReviews == 1)
        #expect(snapshot.alarms == [.offsetOutOfRange: 1, .foreignStore: 0, .unreadableBatch: 0])
        #expect(snapshot.lastAppliedAt == ["crm": later], "billing had no applied event")
    }

    @Test("last applied per source and system: the latest time of each pair, never moving back")
    func lastAppliedBySystem() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        #expect(try store.operationsSnapshot().lastAppliedBySystem.isEmpty)
        let later = Timestamp(epochMilliseconds: t0.epochMilliseconds + 60_000)
        let salesforce = SourceSystem(source: "crm", system: "salesforce")
        let hubspot = SourceSystem(source: "crm", system: "hubspot")
        let stripe = SourceSystem(source: "billing", system: "stripe")
        try store.write { tx in try tx.noteApplied([salesforce, hubspot], at: t0) }
        try store.write { tx in try tx.noteApplied([hubspot, stripe], at: later) }
        try store.write { tx in try tx.noteApplied([stripe], at: t0) }
        #expect(try store.operationsSnapshot().lastAppliedBySystem == [salesforce: t0, hubspot: later, stripe: later])
    }

    @Test("a store from before the per-system times gets them from its remembered applied events when migrated")
    func lastAppliedSeededByMigration() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old.sqlite")
        let later = Timestamp(epochMilliseconds: t0.epochMilliseconds + 60_000)
        do {
            let store = try SQLiteStore(path: path)
            try store.write { tx in
                for (id, system, source, outcome, at) in [("e1", "salesforce", Source.crm, EventOutcome.applied, t0), ("e2", "salesforce", .crm, .applied, later),
                                                          ("e3", "stripe", .billing, .review, later), ("e4", "stripe", .billing, .applied, t0)] {
                    try tx.rememberEvent(RememberedEvent(system: system, eventID: id, source: source, outcome: outcome, goldenID: nil, seenAt: at))
                }
            }
            // As the store was before the migration.
            try store.writeRaw { db in
                try db.execute(sql: "DROP TABLE last_applied")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v11-last-applied-by-system'")
            }
        }
        let migrated = try SQLiteStore(path: path)
        #expect(try migrated.operationsSnapshot().lastAppliedBySystem == [SourceSystem(source: "crm", system: "salesforce"): later,
                                                                           SourceSystem(source: "billing", system: "stripe"): t0])
    }

    @Test("the write probe fails while another connection holds the write lock, and succeeds after")
    func probe() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        let store = try SQLiteStore(path: path)
        try store.probeWritable()
        let other = try DatabaseQueue(path: path)
        try other.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            #expect(throws: StoreError.self) { try store.probeWritable(timeoutMilliseconds: 50) }
            try db.execute(sql: "ROLLBACK")
        }
        try store.probeWritable()
    }
}
