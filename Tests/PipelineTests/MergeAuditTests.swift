import Audit
import CRMModel
import Foundation
import Pipeline
import Store
import Testing

@Suite struct MergeAuditTests {
    /// The survivor's merge audit lists what it inherited from the absorbed record.
    @Test func aMergeAuditListsValuesInheritedFromTheAbsorbedRecord() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [canonical("a1", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-01T09:00:00Z", externalID: "003A",
                                                     fields: #"{"email":"ann@acme.com","job_title":"CTO"}"#)])
        try harness.send("map.events.v1", [canonical("b1", source: "map", system: "hubspot", type: "contact.upserted",
                                                     at: "2026-11-01T09:05:00Z", externalID: "501",
                                                     fields: #"{"email":"ann.lee@acme.com","lead_score":40}"#)])
        try harness.send("crm.events.v1", [canonical("a2", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-01T10:00:00Z", externalID: "003A", fields: #"{"email":"Ann.Lee@acme.com"}"#)])
        let survivor = try #require(try harness.record("salesforce", "003A"))
        #expect(try harness.record("hubspot", "501")?.id == survivor.id, "the events merged the two records")
        let merge = try #require(try harness.audit(survivor.id).last)
        #expect(merge.operation == .merge)
        let inherited = merge.changes.first { $0.field == "lead_score" }
        #expect(inherited?.before == nil)
        #expect(inherited?.after == .number(40))
        #expect(merge.changes.first { $0.field == "email" }?.before == .string("ann@acme.com"))
        #expect(!merge.changes.contains { $0.field == "job_title" }, "unchanged values are not changes")
    }
}
