import CRMModel
import Foundation
import GRDB
import Kafka
import Pipeline
import Store
import Testing

/// docs/contract.md#transient-failures / issue 6: a full disk is a transient failure, retried, never a dead letter.
@Suite struct DiskFullTests {
    func batch(_ count: Int) -> [ConsumerMessage] {
        (0..<count).map { index in
            let document = canonical("full-\(index)", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-11-01T09:00:00Z",
                                     externalID: "003F\(index)", fields: #"{"email":"f\#(index)@acme.io","job_title":"Head of \#(String(repeating: "x", count: 200))"}"#)
            return ConsumerMessage(topic: "crm.events.v1", partition: 0, offset: Int64(index), key: nil, value: Array(document.utf8),
                                   headers: [], timestampMilliseconds: nil)
        }
    }

    @Test func aFullDiskFailsTheBatchTransientlyAndNothingIsDeadLettered() throws {
        let harness = try Harness()
        // The database may not grow: what SQLite reports when the disk is full (SQLITE_FULL).
        try harness.store.writeRaw { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let events = batch(200)
        #expect(throws: TransientFailure.self) { try harness.stage.apply(events) }
        #expect(try harness.record("salesforce", "003F0") == nil, "the whole batch rolled back")
        #expect(try harness.store.read { try $0.unsentOutbox(limit: 10) }.isEmpty, "no dead letter, no output")
        #expect(try harness.store.read { try $0.consumedOffsets(topic: "crm.events.v1") }.isEmpty, "offsets not advanced")

        // Space again: the same batch applies, every event once.
        try harness.store.writeRaw { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        let result = try harness.stage.apply(events)
        #expect(result.outcomes["applied"] == 200)
        #expect(result.outcomes["dead_lettered"] == nil)
    }

    @Test func theStoreTypesAFullDiskAsTransient() throws {
        let harness = try Harness()
        try harness.store.writeRaw { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        do {
            try harness.store.write { tx in
                for index in 0..<500 {
                    try tx.insertRecord(GoldenRecord(id: "c-\(index)", entity: .contact, fields: ["job_title": .string(String(repeating: "y", count: 500))],
                                                     createdAt: Timestamp(epochMilliseconds: 0), updatedAt: Timestamp(epochMilliseconds: 0)))
                }
            }
            Issue.record("the write should have failed")
        } catch let error as StoreError {
            #expect(error.kind == .diskFull)
            #expect(error.isTransient)
        }
    }
}
