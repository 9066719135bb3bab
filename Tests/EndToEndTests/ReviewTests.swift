import Foundation
import Kafka
import Logging
import Testing

@Suite("Review requests: a conflicting critical field is held, then approved through the write path", .serialized, .timeLimit(.minutes(3)))
struct ReviewTests {
    @Test("deal amount: CRM owns it; another source's amount opens a review; approve writes it, audited; approving twice fails")
    func approveFieldReview() async throws {
        let pipeline = try await LivePipeline(name: "review")
        let store = pipeline.store
        try await pipeline.send("crm.events.v1", key: "006A", canonicalEvent("crm-deal-1", source: "crm", system: "salesforce", type: "deal.upserted",
                                                                           at: "2026-11-02T09:40:00Z", externalID: "006A",
                                                                           fields: #"{"name":"Renewal","amount":50000,"currency":"USD"}"#))
        try await pipeline.waitUntilProcessed(1)
        try await pipeline.send("billing.events.v1", key: "006A", canonicalEvent("billing-deal-1", source: "billing", system: "salesforce", type: "deal.upserted",
                                                                                at: "2026-11-02T09:45:00Z", externalID: "006A", fields: #"{"amount":48000}"#))
        try await pipeline.waitUntilProcessed(2)

        let list = try await crmsync(["review", "list", "--json", "--store", store])
        #expect(list.status == 0, "\(list.stderr)")
        let reviews = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(reviews.count == 1)
        let review = try #require(reviews.first)
        #expect(review["kind"] as? String == "field")
        let reviewID = try #require(review["id"] as? String)

        func amount() async throws -> Any? {
            let record = try await crmsync(["records", "get", "--external", "salesforce:006A", "--json", "--store", store])
            return ((try JSONSerialization.jsonObject(with: Data(record.stdout.utf8)) as? [String: Any])?["fields"] as? [String: Any])?["amount"]
        }
        #expect(try await amount() as? Int == 50000, "the record keeps its value while the review is open")

        let approve = try await crmsync(["review", "approve", reviewID, "--actor", "ops@acme", "--store", store])
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(try await amount() as? Int == 48000)
        let again = try await crmsync(["review", "approve", reviewID, "--store", store])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already approved"))
        #expect(try await crmsync(["review", "list", "--store", store]).stdout.contains("no open review requests"))

        let record = try await crmsync(["records", "get", "--external", "salesforce:006A", "--json", "--store", store])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(record.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let trail = try await crmsync(["audit", "--id", id, "--json", "--store", store])
        let events = try #require(try JSONSerialization.jsonObject(with: Data(trail.stdout.utf8)) as? [[String: Any]])
        let last = try #require(events.last)
        #expect(last["operation"] as? String == "review_resolved")
        #expect(last["actor"] as? String == "ops@acme")
        #expect(try await crmsync(["audit", "verify", "--store", store]).status == 0)

        // The processor's relay publishes the approval's outputs (a graceful stop drains the outbox).
        #expect(await pipeline.processor.signal(SIGTERM) == 0)
        let golden = try await TopicSnapshot.read(topic: "golden.records.v1", partitions: 6, bootstrapServers: pipeline.broker.bootstrapServers, logger: pipeline.logger)
        let versions = golden.compactMap { try? JSONSerialization.jsonObject(with: Data($0.value ?? [])) as? [String: Any] }.filter { $0["id"] as? String == id }
        #expect(versions.contains { ($0["fields"] as? [String: Any])?["amount"] as? Int == 48000 })
        await pipeline.stop()
    }
}
