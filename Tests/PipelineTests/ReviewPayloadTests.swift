import Audit
import CRMModel
import Foundation
import Pipeline
import Store
import Testing

@Suite struct ReviewPayloadTests {
    /// A field review keeps the proposed value's type: approving a close date writes a timestamp.
    @Test func approvingACloseDateReviewWritesATimestamp() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [canonical("crm-deal", source: "crm", system: "salesforce", type: "deal.upserted",
                                                     at: "2026-11-02T09:40:00Z", externalID: "006A",
                                                     fields: #"{"name":"Renewal","close_date":"2026-12-31T00:00:00Z"}"#)])
        try harness.send("billing.events.v1", [canonical("billing-deal", source: "billing", system: "salesforce", type: "deal.upserted",
                                                         at: "2026-11-02T09:45:00Z", externalID: "006A",
                                                         fields: #"{"close_date":"2027-01-15T00:00:00Z"}"#)])
        let open = try harness.store.read { try $0.reviewRequests(status: .open, limit: 10) }
        let review = try #require(open.first)
        #expect(open.count == 1)
        let expected = FieldValue.timestamp(try Timestamp(rfc3339: "2027-01-15T00:00:00Z"))
        #expect(try harness.record("salesforce", "006A", entity: .deal)?.fields["close_date"]
                == .timestamp(try Timestamp(rfc3339: "2026-12-31T00:00:00Z")))
        _ = try harness.stage.resolveReview(id: review.id, decision: .approve(into: nil), actor: "ops")
        #expect(try harness.record("salesforce", "006A", entity: .deal)?.fields["close_date"] == expected)
        let deal = try #require(try harness.record("salesforce", "006A", entity: .deal))
        let last = try #require(try harness.audit(deal.id).last)
        #expect(last.operation == .reviewResolved)
        #expect(last.changes.contains { $0.field == "close_date" })
        // The history holds the approved value as a timestamp too, so the CRM echoing it back is
        // a no-op (no audit noise), not a "change" from text to an instant.
        let trail = try harness.audit(deal.id).count
        try harness.send("crm.events.v1", [canonical("crm-echo", source: "crm", system: "salesforce", type: "deal.upserted",
                                                     at: "2026-11-21T00:00:00Z", externalID: "006A",
                                                     fields: #"{"close_date":"2027-01-15T00:00:00Z"}"#)])
        #expect(try harness.audit(deal.id).count == trail)
        #expect(try harness.record("salesforce", "006A", entity: .deal)?.fields["close_date"] == expected)
    }
}
