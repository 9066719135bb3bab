import Audit
import CRMModel
import Foundation
import PropertyBased
import Store
import Testing

/// Deletes and restores through the write stage, decided on event time (docs/contract.md#deletes-and-purge: the record is
/// a pure function of the set of events applied), audited only when the deleted state flips.
@Suite struct WriteStageDeletionTests {
    static let create = canonical("sf-1", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-11-01T09:00:00Z",
                                  externalID: "003A", fields: #"{"email":"ann@acme.io","job_title":"CTO"}"#)

    static func lifecycle(_ id: String, _ action: String, minute: Int) -> String {
        canonical(id, source: "crm", system: "salesforce", type: "contact.\(action)",
                  at: "2026-11-01T10:\(String(format: "%02d", minute)):00Z", externalID: "003A")
    }

    static func time(minute: Int) throws -> Timestamp { try Timestamp(rfc3339: "2026-11-01T10:\(String(format: "%02d", minute)):00Z") }

    func operations(_ harness: Harness) throws -> [AuditEvent.Operation] {
        let record = try #require(try harness.record("salesforce", "003A"))
        return try harness.audit(record.id).map(\.operation)
    }

    @Test func aLateOlderRestoreDoesNotUndoANewerDelete() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [Self.create, Self.lifecycle("del", "deleted", minute: 30)])
        try harness.send("crm.events.v1", [Self.lifecycle("res", "restored", minute: 10)])
        #expect(try harness.record("salesforce", "003A")?.deletedAt == Self.time(minute: 30))
        #expect(try operations(harness) == [.create, .softDelete])
    }

    @Test func aLateOlderDeleteDoesNotDeleteARecordRestoredLater() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [Self.create, Self.lifecycle("del1", "deleted", minute: 5),
                                           Self.lifecycle("res", "restored", minute: 20)])
        try harness.send("crm.events.v1", [Self.lifecycle("del0", "deleted", minute: 10)])
        #expect(try harness.record("salesforce", "003A")?.deletedAt == nil)
        #expect(try operations(harness) == [.create, .softDelete, .restore])
    }

    @Test func anUpdateOfASoftDeletedRecordChangesFieldsButDoesNotResurrectIt() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [Self.create, Self.lifecycle("del", "deleted", minute: 5)])
        try harness.send("crm.events.v1", [canonical("sf-2", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-01T11:00:00Z", externalID: "003A", fields: #"{"job_title":"CEO"}"#)])
        let record = try #require(try harness.record("salesforce", "003A"))
        #expect(record.deletedAt == (try Self.time(minute: 5)))
        #expect(record.fields["job_title"] == .string("CEO"))
        #expect(try operations(harness) == [.create, .softDelete, .update])
    }

    @Test func aDeleteStoredByAnOlderCrmsyncSurvivesTheNextEvent() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [Self.create])
        // What an older binary left behind: deleted_at set, no delete in the history.
        let legacy = try Self.time(minute: 1)
        try harness.store.write { tx in
            let id = try #require(try tx.goldenID(for: ExternalReference(system: "salesforce", id: "003A"), entity: .contact))
            var record = try #require(try tx.record(id))
            record.deletedAt = legacy
            record.version += 1
            try tx.updateRecord(record)
        }
        try harness.send("crm.events.v1", [canonical("sf-2", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-01T11:00:00Z", externalID: "003A", fields: #"{"job_title":"CEO"}"#)])
        #expect(try harness.record("salesforce", "003A")?.deletedAt == legacy)
    }

    /// Any arrival order of a set of deletes, restores and updates (after the create) gives the
    /// same record, and the audit trail has a soft_delete or restore exactly where the deleted
    /// state flipped.
    @Test func everyArrivalOrderGivesTheSameDeletedStateAndFields() async throws {
        let gen = Gen.int(in: 0...1_000_000).array(of: 1...6)
        await propertyCheck(count: 40, input: gen, Gen.int(in: 0...1_000_000)) { seeds, shuffle in
            let events = seeds.enumerated().map { index, seed -> String in
                let minute = seed % 4
                switch seed % 3 {
                case 0: return Self.lifecycle("d\(index)", "deleted", minute: minute)
                case 1: return Self.lifecycle("r\(index)", "restored", minute: minute)
                default:
                    return canonical("u\(index)", source: "crm", system: "salesforce", type: "contact.upserted",
                                     at: "2026-11-01T10:0\(minute):00Z", externalID: "003A",
                                     fields: #"{"job_title":"T\#(seed % 5)"}"#)
                }
            }
            var rng = Xoshiro(seed: (UInt64(shuffle), 0x9E37_79B9_7F4A_7C15, 1, 2))
            var results: [(deletedAt: Timestamp?, fields: [String: FieldValue])] = []
            for order in [events, Array(events.reversed()), events.shuffled(using: &rng)] {
                let harness = try Harness()
                try harness.send("crm.events.v1", [Self.create])
                for event in order { try harness.send("crm.events.v1", [event]) }
                let record = try #require(try harness.record("salesforce", "003A"))
                results.append((record.deletedAt, record.fields))
                // Each soft_delete/restore audit event flips the state; nothing else does.
                var deleted = false
                for audit in try harness.audit(record.id) {
                    let change = audit.changes.first { $0.field == "deleted_at" }
                    switch audit.operation {
                    case .softDelete:
                        #expect(!deleted && change?.after != nil)
                        deleted = true
                    case .restore:
                        #expect(deleted && change?.after == nil && change != nil)
                        deleted = false
                    default:
                        #expect(change == nil || (change?.before != nil && change?.after != nil))
                    }
                }
                #expect(deleted == (record.deletedAt != nil))
            }
            #expect(results.allSatisfy { $0.deletedAt == results[0].deletedAt && $0.fields == results[0].fields })
        }
    }
}

