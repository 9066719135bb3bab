import Foundation
import Testing

/// The seeds' scenarios (issue #5) through the real binary on the dev broker: each phase is
/// published after the previous one is processed, so "later" means later in arrival too.
@Suite("Seed scenarios: ownership, stages, unsubscribes, reviews, bulk deletes, conversions", .serialized, .timeLimit(.minutes(5)))
struct SeedScenarioTests {
    static let people = 20

    func fields(_ record: [String: Any]?) -> [String: Any] { record?["fields"] as? [String: Any] ?? [:] }

    /// The audit event written for one input event.
    func auditEvent(_ pipeline: LivePipeline, record: [String: Any]?, eventID: String) async throws -> [String: Any]? {
        guard let id = record?["id"] as? String else { return nil }
        return try await pipeline.audit(id).first { $0["event_id"] as? String == eventID }
    }

    func rejectedFields(_ audit: [String: Any]?) -> [String] {
        (audit?["rejected"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }

    @Test("the seeds: blocked job title and stage, sticky unsubscribe, deal review, soft bulk delete, conversion")
    func seeds() async throws {
        let pipeline = try await LivePipeline(name: "seeds")
        var sent = 0
        func send(_ topic: String, _ key: String, _ json: String) async throws {
            try await pipeline.send(topic, key: key, json)
            sent += 1
        }

        // Phase 1: what the CRM (and for the bulk delete, the MAP) knows first.
        try await send("crm.events.v1", "003JT", canonicalEvent("sf-jt-1", source: "crm", system: "salesforce", type: "contact.upserted",
            at: "2026-11-01T09:00:00Z", externalID: "003JT", fields: #"{"email":"jane.title@acme.io","job_title":"VP Sales"}"#))
        try await send("crm.events.v1", "003SQL", canonicalEvent("sf-sql-1", source: "crm", system: "salesforce", type: "contact.upserted",
            at: "2026-11-01T09:00:00Z", externalID: "003SQL", fields: #"{"email":"sam.stage@acme.io","lifecycle_stage":"sql"}"#))
        try await send("map.events.v1", "hs-unsub", canonicalEvent("hs-unsub-1", source: "map", system: "hubspot", type: "contact.unsubscribed",
            at: "2026-11-01T09:00:00Z", externalID: "501", fields: #"{"email":"uma.unsub@acme.io","email_opt_out":true}"#))
        try await send("crm.events.v1", "006D", canonicalEvent("sf-deal-1", source: "crm", system: "salesforce", type: "deal.upserted",
            at: "2026-11-01T09:00:00Z", externalID: "006D", fields: #"{"name":"Renewal","amount":50000,"currency":"USD"}"#))
        try await send("crm.events.v1", "00QL", canonicalEvent("sf-lead-1", source: "crm", system: "salesforce", type: "contact.upserted",
            at: "2026-11-01T09:00:00Z", externalID: "00QL", fields: #"{"email":"lee.lead@acme.io","first_name":"Lee"}"#))
        for person in 0..<Self.people {
            try await send("crm.events.v1", "003B\(person)", canonicalEvent("sf-bulk-\(person)", source: "crm", system: "salesforce",
                type: "contact.upserted", at: "2026-11-01T09:00:00Z", externalID: "003B\(person)",
                fields: #"{"email":"bulk\#(person)@acme.io","job_title":"Buyer \#(person)"}"#))
        }
        try await pipeline.waitUntilProcessed(sent)
        // The MAP syncs the same people (its own ids join the records by email).
        for person in 0..<Self.people {
            try await send("map.events.v1", "hsB\(person)", canonicalEvent("hs-bulk-\(person)", source: "map", system: "hubspot",
                type: "contact.upserted", at: "2026-11-01T10:00:00Z", externalID: "hsB\(person)",
                fields: #"{"email":"bulk\#(person)@acme.io","lead_score":\#(person)}"#))
        }
        try await pipeline.waitUntilProcessed(sent)

        // Phase 2: the conflicting writes, later in event time.
        try await send("map.events.v1", "hs-jt", canonicalEvent("hs-jt-1", source: "map", system: "hubspot", type: "contact.upserted",
            at: "2026-11-02T09:00:00Z", externalID: "502", fields: #"{"email":"jane.title@acme.io","job_title":"Marketing Manager"}"#))
        try await send("map.events.v1", "hs-sql", canonicalEvent("hs-sql-1", source: "map", system: "hubspot", type: "contact.upserted",
            at: "2026-11-02T09:00:00Z", externalID: "503", fields: #"{"email":"sam.stage@acme.io","lifecycle_stage":"mql"}"#))
        try await send("crm.events.v1", "003U", canonicalEvent("sf-unsub-sync", source: "crm", system: "salesforce", type: "contact.upserted",
            at: "2026-11-02T09:00:00Z", externalID: "003U", fields: #"{"email":"uma.unsub@acme.io","email_opt_out":false}"#))
        try await send("billing.events.v1", "006D", canonicalEvent("billing-deal-1", source: "billing", system: "salesforce", type: "deal.upserted",
            at: "2026-11-02T09:00:00Z", externalID: "006D", fields: #"{"amount":48000}"#))
        try await send("crm.events.v1", "003L", canonicalEvent("sf-convert-1", source: "crm", system: "salesforce", type: "contact.converted",
            at: "2026-11-02T09:00:00Z", externalID: "003L", fields: #"{"converted_from":"00QL","lifecycle_stage":"sql"}"#))
        for person in 0..<Self.people {
            try await send("map.events.v1", "hsB\(person)", canonicalEvent("hs-bulk-delete-\(person)", source: "map", system: "hubspot",
                type: "contact.deleted", at: "2026-11-02T09:30:00Z", externalID: "hsB\(person)"))
        }
        try await pipeline.waitUntilProcessed(sent)

        // Phase 3: updates after the conversion, to the contact's new id.
        try await send("crm.events.v1", "003L", canonicalEvent("sf-convert-2", source: "crm", system: "salesforce", type: "contact.upserted",
            at: "2026-11-03T09:00:00Z", externalID: "003L", fields: #"{"job_title":"Head of IT","last_name":"Lane"}"#))
        try await pipeline.waitUntilProcessed(sent)

        // (a) MAP overwriting a rep's job title: blocked, the audit says so.
        let jane = try await pipeline.record("hubspot:502")
        #expect(fields(jane)["job_title"] as? String == "VP Sales")
        #expect(rejectedFields(try await auditEvent(pipeline, record: jane, eventID: "hs-jt-1")).contains("job_title"))

        // (b) MAP resetting an SQL back to MQL: blocked.
        let sam = try await pipeline.record("hubspot:503")
        #expect(fields(sam)["lifecycle_stage"] as? String == "sql")
        #expect(rejectedFields(try await auditEvent(pipeline, record: sam, eventID: "hs-sql-1")).contains("lifecycle_stage"))

        // (c) An unsubscribe, then a CRM sync with opt-out false: still unsubscribed.
        let uma = try await pipeline.record("salesforce:003U")
        #expect(uma?["id"] as? String == (try await pipeline.record("hubspot:501"))?["id"] as? String, "one person")
        #expect(fields(uma)["email_opt_out"] as? Bool == true)
        #expect(rejectedFields(try await auditEvent(pipeline, record: uma, eventID: "sf-unsub-sync")).contains("email_opt_out"))

        // (d) A conflicting deal amount: a review request; the record keeps its value.
        let deal = try await pipeline.record("salesforce:006D")
        #expect(fields(deal)["amount"] as? Int == 50000)
        let reviews = try await pipeline.json(["review", "list", "--json"]).value as? [[String: Any]] ?? []
        #expect(reviews.contains { $0["kind"] as? String == "field" && $0["golden_id"] as? String == deal?["id"] as? String
            && $0["event_id"] as? String == "billing-deal-1" })

        // (e) The marketing bulk delete: soft deletes only; every record and value still there.
        for person in 0..<Self.people {
            let record = try await pipeline.record("salesforce:003B\(person)")
            #expect(record?["deleted_at"] is String, "bulk\(person) is soft-deleted")
            #expect(fields(record)["email"] as? String == "bulk\(person)@acme.io")
            #expect(fields(record)["job_title"] as? String == "Buyer \(person)")
            #expect(try await auditEvent(pipeline, record: record, eventID: "hs-bulk-delete-\(person)")?["operation"] as? String == "soft_delete")
        }

        // (f) A lead converted to a contact: later updates land on the same golden record.
        let lead = try await pipeline.record("salesforce:00QL")
        let contact = try await pipeline.record("salesforce:003L")
        #expect(lead?["id"] as? String != nil)
        #expect(contact?["id"] as? String == lead?["id"] as? String)
        #expect(fields(contact)["job_title"] as? String == "Head of IT")
        #expect(fields(contact)["first_name"] as? String == "Lee")
        #expect(fields(contact)["lifecycle_stage"] as? String == "sql")

        // The accounting identity, and the record counts that follow from the above.
        let stats = try await storeStats(pipeline.store)
        let events = stats["events"] as? [String: Int] ?? [:]
        #expect(events["total"] == sent)
        #expect(events["applied"] == sent)
        #expect(events["dead_lettered"] == 0)
        // jane, sam, uma, lee: live; the bulk-deleted people are not counted as live.
        #expect((stats["records"] as? [String: Int])?["contact"] == 4)
        #expect((stats["records"] as? [String: Int])?["deal"] == 1)
        #expect(try await crmsync(["audit", "verify", "--store", pipeline.store]).status == 0)
        await pipeline.stop()
    }
}
