import CRMModel
import Foundation
import Pipeline
import Testing

/// The write stage's ``BatchSummary``: what the metrics count, filled where outcomes are decided.
@Suite struct BatchSummaryTests {
    @Test func outcomesBySourceAndSystemWithApplyLatency() throws {
        let harness = try Harness(now: "2026-11-01T09:00:10Z")
        let event = canonical("a1", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-11-01T09:00:00Z",
                              externalID: "003A", fields: #"{"email":"ann@acme.com"}"#)
        let result = try harness.send("crm.events.v1", [event, event, #"{"event_id":"#])
        let summary = result.summary
        #expect(summary.events == [
            .init(source: "crm", system: "salesforce", outcome: "applied"): 1,
            .init(source: "crm", system: "salesforce", outcome: "duplicate"): 1,
            .init(source: "crm", system: "unknown", outcome: "dead_lettered"): 1,
        ])
        #expect(summary.deadLetters == ["malformed-json": 1])
        #expect(summary.appliedLatencies.map(\.seconds) == [10], "occurred_at 09:00:00 applied at 09:00:10")
        #expect(summary.merges == 0)
    }

    @Test func mergesAndOwnershipRejectionsAreCounted() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [canonical("a1", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-01T09:00:00Z", externalID: "003A",
                                                     fields: #"{"email":"ann@acme.com","job_title":"CTO"}"#)])
        try harness.send("map.events.v1", [canonical("b1", source: "map", system: "hubspot", type: "contact.upserted",
                                                     at: "2026-11-01T09:05:00Z", externalID: "501",
                                                     fields: #"{"email":"ann.lee@acme.com","lead_score":40}"#)])
        let merged = try harness.send("crm.events.v1", [canonical("a2", source: "crm", system: "salesforce", type: "contact.upserted",
                                                                  at: "2026-11-01T10:00:00Z", externalID: "003A", fields: #"{"email":"Ann.Lee@acme.com"}"#)])
        #expect(merged.summary.merges == 1, "the crm event linked the hubspot record: one record absorbed")
        // map may not set a crm-owned field.
        let refused = try harness.send("map.events.v1", [canonical("b2", source: "map", system: "hubspot", type: "contact.upserted",
                                                                   at: "2026-11-01T11:00:00Z", externalID: "501",
                                                                   fields: #"{"job_title":"Intern"}"#)])
        #expect(refused.summary.rejections.keys.map(\.field) == ["job_title"], "\(refused.summary.rejections)")
        #expect(refused.summary.rejections.values.reduce(0, +) == 1)
    }

    @Test func aMessageDeadLetteredAsAWholeCountsOnce() throws {
        let harness = try Harness()
        // A Segment batch: the second event is bad, so the whole message is dead-lettered.
        let batch = #"{"batch":[{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2026-02-01T12:00:00Z","traits":{"email":"a@b.com"}},{"type":"identify","messageId":"m2","userId":"u2","timestamp":"not a time","traits":{}}]}"#
        let result = try harness.send("product.events.v1", [batch])
        #expect(result.outcomes == ["dead_lettered": 1])
        #expect(result.summary.events.values.reduce(0, +) == 1)
        #expect(result.summary.appliedLatencies.isEmpty, "the rolled-back event left no trace in the summary")
    }
}
