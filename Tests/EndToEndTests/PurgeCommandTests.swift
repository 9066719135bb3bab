import Foundation
import GRDB
import Kafka
import Testing

/// `crmsync purge` through the binary, while `crmsync run` is running on the same store.
@Suite("Purge: hard-deletes soft-deleted records past the grace period, audited", .serialized, .timeLimit(.minutes(3)))
struct PurgeCommandTests {
    /// RFC 3339 for `days` days before now.
    func daysAgo(_ days: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date().addingTimeInterval(-Double(days) * 86_400))
    }

    @Test("40 days deleted: purged; 1 day deleted or learnt of only now: kept; dry run changes nothing; audit verifies")
    func purge() async throws {
        let pipeline = try await LivePipeline(name: "purge")
        var sent = 0
        for (id, deletedDaysAgo) in [("003OLD", 40), ("003NEW", 1), ("003LATE", 40)] {
            try await pipeline.send("crm.events.v1", key: id, canonicalEvent("\(id)-create", source: "crm", system: "salesforce",
                type: "contact.upserted", at: daysAgo(60), externalID: id, fields: #"{"email":"\#(id.lowercased())@acme.io"}"#))
            try await pipeline.send("crm.events.v1", key: id, canonicalEvent("\(id)-delete", source: "crm", system: "salesforce",
                type: "contact.deleted", at: daysAgo(deletedDaysAgo), externalID: id))
            sent += 2
        }
        try await pipeline.waitUntilProcessed(sent)
        let old = try #require(try await pipeline.record("salesforce:003OLD"))
        let oldID = try #require(old["id"] as? String)
        let newID = try #require(try await pipeline.record("salesforce:003NEW")?["id"] as? String)
        // The grace period runs from when crmsync applied the delete, too: let 40 days pass for
        // 003OLD and 003NEW (the store's wall-clock `updated_at`); 003LATE's delete is 40 days
        // old in the source but was learnt of just now.
        let database = try DatabaseQueue(path: pipeline.store)
        try await database.write { db in
            try db.execute(sql: "UPDATE records SET updated_at = updated_at - ? WHERE id IN (?, ?)", arguments: [40 * 86_400_000, oldID, newID])
        }

        // Dry run: lists the old record, changes nothing.
        let trailBefore = try await pipeline.audit(oldID).count
        let dry = try await pipeline.json(["purge", "--older-than", "30d", "--dry-run", "--json"])
        #expect(dry.result.status == 0, "\(dry.result.stderr)")
        let dryReport = try #require(dry.value as? [String: Any])
        #expect(dryReport["dry_run"] as? Bool == true)
        #expect((dryReport["records"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [oldID])
        #expect(try await pipeline.record("salesforce:003OLD")?["id"] as? String == oldID)
        #expect(try await pipeline.audit(oldID).count == trailBefore)

        // The real thing, while `crmsync run` holds the same store.
        let purge = try await pipeline.json(["purge", "--older-than", "30d", "--json", "--actor", "ops@acme"])
        #expect(purge.result.status == 0, "\(purge.result.stderr)")
        #expect(((purge.value as? [String: Any])?["records"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [oldID])

        let gone = try await crmsync(["records", "get", "--external", "salesforce:003OLD", "--store", pipeline.store])
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("no record"))
        let byID = try await crmsync(["records", "get", "--id", oldID, "--store", pipeline.store])
        #expect(byID.status == 1)
        #expect(try await pipeline.record("salesforce:003NEW")?["deleted_at"] is String, "still in its grace period")
        #expect(try await pipeline.record("salesforce:003LATE")?["deleted_at"] is String, "applied just now: still in its grace period")

        let trail = try await pipeline.audit(oldID)
        #expect(trail.count == trailBefore + 1)
        #expect(trail.last?["operation"] as? String == "purge")
        #expect(trail.last?["actor"] as? String == "ops@acme")
        let verify = try await crmsync(["audit", "verify", "--store", pipeline.store])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // `crmsync run`'s relay publishes the purge's audit event (it picks up rows other
        // processes wrote): wait on its "outbox published" lines until the topic has it.
        func publishedPurge() async throws -> Bool {
            try await TopicSnapshot.read(topic: "audit.events.v1", partitions: 6, bootstrapServers: pipeline.broker.bootstrapServers, logger: pipeline.logger)
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.value ?? [])) as? [String: Any] }
                .contains { $0["golden_id"] as? String == oldID && $0["operation"] as? String == "purge" }
        }
        while try await !publishedPurge() {
            guard await pipeline.processor.waitForLine(containing: "outbox published") != nil else {
                Issue.record("crmsync run ended before publishing the purge audit event")
                break
            }
        }

        // Nothing left to purge.
        let again = try await pipeline.json(["purge", "--json"])
        #expect((again.value as? [String: Any])?["records"] as? [Any] != nil)
        #expect(((again.value as? [String: Any])?["records"] as? [Any])?.isEmpty == true)
        let bad = try await crmsync(["purge", "--older-than", "30 days", "--store", pipeline.store])
        #expect(bad.status == 2)
        await pipeline.stop()
    }
}
