import CRMModel
import Foundation
@testable import Pipeline
import Store
import Testing

/// The writer derives a record's external ids after linking from the ids before plus the
/// event's references (no second read); the published documents must say what the store holds.
@Suite struct ExternalIDsWithoutRereadTests {
    @Test func everyGoldenDocumentListsTheExternalIDsTheStoreHolds() throws {
        let harness = try Harness()
        // Created by Salesforce; joined by email from HubSpot (a new system); an update that links
        // nothing new.
        try harness.send("crm.events.v1", [canonical("a1", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-01T09:00:00Z", externalID: "003B", fields: #"{"email":"ann@acme.com"}"#)])
        try harness.send("map.events.v1", [canonical("b1", source: "map", system: "hubspot", type: "contact.upserted",
                                                     at: "2026-11-01T09:05:00Z", externalID: "501", fields: #"{"email":"ann@acme.com","lead_score":40}"#)])
        try harness.send("map.events.v1", [canonical("b2", source: "map", system: "hubspot", type: "contact.upserted",
                                                     at: "2026-11-01T09:15:00Z", externalID: "501", fields: #"{"lead_score":41}"#)])
        let record = try #require(try harness.record("salesforce", "003B"))
        let (stored, documents) = try harness.store.read { reader in
            (try reader.externalIDs(of: record.id), try reader.outbox(topic: "golden.records.v1", key: Data(record.id.utf8)))
        }
        #expect(stored == ["hubspot": ["501"], "salesforce": ["003B"]])
        let published = try documents.map { entry -> [String: [String]] in
            let document = try #require(try JSONSerialization.jsonObject(with: Data(entry.message.value)) as? [String: Any])
            return try #require(document["external_ids"] as? [String: [String]])
        }
        #expect(published == [["salesforce": ["003B"]], ["hubspot": ["501"], "salesforce": ["003B"]], ["hubspot": ["501"], "salesforce": ["003B"]]])

        // The audit names each new external id as a change, and only then.
        let crosswalkChanges = try harness.audit(record.id).map { event in event.changes.filter { $0.field == "external_ids" }.count }
        #expect(crosswalkChanges == [0, 1, 0])
    }

    @Test func linkingAddsOnlyNewReferencesAndKeepsEachSystemSorted() {
        let before = ["salesforce": ["003B"], "hubspot": ["501"]]
        let after = WriteStage.linking([ExternalReference(system: "salesforce", id: "003A"), ExternalReference(system: "hubspot", id: "501"),
                                        ExternalReference(system: "stripe", id: "cus_1")], into: before)
        #expect(after == ["salesforce": ["003A", "003B"], "hubspot": ["501"], "stripe": ["cus_1"]])
        #expect(WriteStage.linking([], into: before) == before)
    }
}
