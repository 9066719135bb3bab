import Foundation
import Testing

/// Issue 14 items 1 and 7 through the binary: full names from Stripe and Segment become first and
/// last names; an unsubscribe carrying only an email opts the person out; `records get --email`
/// finds a record whose address is on the blocked-identifier list.
@Suite("Real payloads: full names, bare unsubscribes, blocked addresses", .serialized, .timeLimit(.minutes(3)))
struct RealPayloadTests {
    @Test("Stripe name and Segment name trait split; unsubscribe by email; records get --email on example.org")
    func namesUnsubscribesAndBlockedAddresses() async throws {
        let pipeline = try await LivePipeline(name: "real-payloads")
        // A customer.created in Stripe's own shape (trimmed to what crmsync reads plus noise).
        try await pipeline.send("billing.events.v1", key: "cus_Ada1", #"""
        {"id":"evt_1Ada","object":"event","api_version":"2024-06-20","created":1793611080,"type":"customer.created","livemode":false,"pending_webhooks":1,
         "data":{"object":{"id":"cus_Ada1","object":"customer","email":"Ada.Lovelace@example.org","name":"Ada King Lovelace","phone":null,"balance":0,"currency":null,"metadata":{}}}}
        """#)
        // Segment identify whose only name is the reserved `name` trait (the spec's own example shape).
        try await pipeline.send("product.events.v1", key: "u-7", #"""
        {"type":"identify","messageId":"seg-7","userId":"u-7","timestamp":"2026-11-02T09:20:00.000Z","traits":{"email":"grace@navy-labs.io","name":"Grace van Hopper"}}
        """#)
        // A bare unsubscribe: only the email identifies the person (HubSpot id unknown to crmsync so far).
        try await pipeline.send("map.events.v1", key: "501", canonicalEvent(
            "map-unsub-1", source: "map", system: "hubspot", type: "contact.unsubscribed", at: "2026-11-03T10:00:00Z",
            externalID: "501", fields: #"{"email":"grace@navy-labs.io"}"#))
        try await pipeline.waitUntilProcessed(3)

        let (found, value) = try await pipeline.json(["records", "get", "--email", "ada.lovelace@example.org", "--json"])
        #expect(found.status == 0, "a record carrying a blocked address is still found: \(found.stderr)")
        let ada = (value as? [String: Any])?["fields"] as? [String: Any]
        #expect(ada?["first_name"] as? String == "Ada King")
        #expect(ada?["last_name"] as? String == "Lovelace")
        #expect(found.stderr.contains("blocked"), "says why the match key did not find it: \(found.stderr)")

        let grace = try await pipeline.record("segment:u-7")
        let fields = grace?["fields"] as? [String: Any]
        #expect(fields?["first_name"] as? String == "Grace")
        #expect(fields?["last_name"] as? String == "van Hopper", "particles stay with the last name, casing as typed")
        #expect(fields?["email_opt_out"] as? Bool == true, "the bare unsubscribe opted the person out")
        let consent = fields?["consent"] as? [[String: Any]] ?? []
        #expect(consent.contains { $0["channel"] as? String == "email" && $0["granted"] as? Bool == false })
        let externalIDs = grace?["external_ids"] as? [String: [String]]
        #expect(externalIDs?["hubspot"] == ["501"], "the unsubscribe joined the same person by email")
        await pipeline.stop()
    }
}

/// Issue 14 item 2 through the binary: a conflict below the review threshold is noted on the
/// record (`records get`) and counted (`stats`), not queued.
@Suite("Review queue: near matches noted and counted", .serialized, .timeLimit(.minutes(3)))
struct NearMatchCLITests {
    @Test("two colleagues behind one switchboard: one near match, no review")
    func colleaguesAreNotedNotQueued() async throws {
        let pipeline = try await LivePipeline(name: "near-match")
        try await pipeline.send("crm.events.v1", key: "003N1", canonicalEvent(
            "crm-n1", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-11-01T10:00:00Z", externalID: "003N1",
            fields: #"{"email":"olga.petrova@initech-labs.com","first_name":"Olga","last_name":"Petrova","phone":"+1 415 555 0142"}"#))
        try await pipeline.send("crm.events.v1", key: "003N2", canonicalEvent(
            "crm-n2", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-11-01T11:00:00Z", externalID: "003N2",
            fields: #"{"email":"bob.wu@initech-labs.com","first_name":"Bob","last_name":"Wu","phone":"+1 415 555 0142"}"#))
        try await pipeline.waitUntilProcessed(2)
        let stats = try await storeStats(pipeline.store)
        #expect(stats["near_matches"] as? Int == 1)
        let (reviews, _) = try await pipeline.json(["review", "list", "--json"])
        #expect(reviews.status == 0)
        #expect(!reviews.stdout.contains("conflict"), "a near match is not queued: \(reviews.stdout)")
        let bob = try await pipeline.record("salesforce:003N2")
        let olga = try await pipeline.record("salesforce:003N1")
        let noted = bob?["near_matches"] as? [[String: Any]]
        #expect(noted?.count == 1)
        #expect(noted?.first?["golden_id"] as? String == olga?["id"] as? String)
        #expect((noted?.first?["score"] as? Double).map { $0 > 0 && $0 < 0.8 } == true)
        await pipeline.stop()
    }
}
