import Audit
import CRMModel
import Foundation
import Pipeline
import Store
import Testing

/// `crmsync purge` at the write-stage level: only records soft-deleted before the cutoff go,
/// audited, unmatchable afterwards; a dry run changes nothing.
@Suite struct PurgeTests {
    static let day: Int64 = 86_400_000

    /// Two contacts: 003OLD deleted (and the delete applied) 40 days before "now", 003NEW
    /// deleted 1 day before.
    func twoDeletedContacts() throws -> Harness {
        let harness = try Harness(now: "2026-10-11T12:05:00Z")
        try harness.send("crm.events.v1", [
            canonical("c-old", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-09-01T09:00:00Z",
                      externalID: "003OLD", fields: #"{"email":"old@acme.io","job_title":"CTO"}"#),
            canonical("c-new", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-09-01T09:00:00Z",
                      externalID: "003NEW", fields: #"{"email":"new@acme.io"}"#),
            canonical("d-old", source: "crm", system: "salesforce", type: "contact.deleted", at: "2026-10-11T12:00:00Z", externalID: "003OLD"),
        ])
        harness.time.set(try Timestamp(rfc3339: "2026-11-20T12:00:00Z"))
        try harness.send("crm.events.v1", [
            canonical("d-new", source: "crm", system: "salesforce", type: "contact.deleted", at: "2026-11-19T12:00:00Z", externalID: "003NEW"),
        ])
        return harness
    }

    @Test func aLateOldDeleteGetsItsFullGracePeriod() throws {
        let harness = try twoDeletedContacts()
        // Deleted 60 days ago in the source, but crmsync learns of it only now.
        try harness.send("crm.events.v1", [
            canonical("c-late", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-09-01T09:00:00Z",
                      externalID: "003LATE", fields: #"{"email":"late@acme.io"}"#),
            canonical("d-late", source: "crm", system: "salesforce", type: "contact.deleted", at: "2026-09-21T12:00:00Z", externalID: "003LATE"),
        ])
        let report = try harness.stage.purge(deletedBefore: cutoff(harness), eventIDsSeenBefore: nil, dryRun: false, actor: "ops")
        #expect(report.records.count == 1)
        #expect(report.records.first?.deletedAt == (try Timestamp(rfc3339: "2026-10-11T12:00:00Z")), "only 003OLD goes")
        harness.time.set(try Timestamp(rfc3339: "2026-12-21T12:00:00Z"))
        let later = try harness.stage.purge(deletedBefore: cutoff(harness), eventIDsSeenBefore: nil, dryRun: false, actor: "ops")
        #expect(later.records.map(\.deletedAt) == [try Timestamp(rfc3339: "2026-09-21T12:00:00Z"), try Timestamp(rfc3339: "2026-11-19T12:00:00Z")],
                "003LATE 30 days after it was applied (and 003NEW by now)")
    }

    func cutoff(_ harness: Harness) -> Timestamp { Timestamp(epochMilliseconds: harness.time.now.epochMilliseconds - 30 * Self.day) }

    @Test func aDryRunListsWhatWouldGoAndChangesNothing() throws {
        let harness = try twoDeletedContacts()
        let old = try #require(try harness.record("salesforce", "003OLD"))
        let outboxBefore = try harness.store.read { try $0.unsentOutbox(limit: 1_000).count }
        let everything = Timestamp(epochMilliseconds: harness.time.now.epochMilliseconds + 1)
        let report = try harness.stage.purge(deletedBefore: cutoff(harness), eventIDsSeenBefore: everything, dryRun: true, actor: "ops")
        #expect(report.records.map(\.goldenID) == [old.id])
        #expect(report.eventIDs == 4)
        #expect(report.batches == 0)
        #expect(try harness.record("salesforce", "003OLD") == old)
        #expect(try harness.store.read { try $0.unsentOutbox(limit: 1_000).count } == outboxBefore)
        #expect(try harness.store.read { try $0.rememberedEvent(system: "salesforce", eventID: "c-old") } != nil)
    }

    @Test func purgeRemovesOnlyRecordsPastTheGracePeriodAuditedAndUnmatchable() throws {
        let harness = try twoDeletedContacts()
        let old = try #require(try harness.record("salesforce", "003OLD"))
        let report = try harness.stage.purge(deletedBefore: cutoff(harness), eventIDsSeenBefore: nil, dryRun: false, batchSize: 1, actor: "ops")
        #expect(report.records.map(\.goldenID) == [old.id])
        #expect(report.records.first?.externalIDs == ["salesforce": ["003OLD"]])
        #expect(try harness.store.read { try $0.record(old.id) } == nil)
        #expect(try harness.record("salesforce", "003OLD") == nil)
        #expect(try harness.record("salesforce", "003NEW")?.deletedAt != nil, "deleted 1 day ago: still in its grace period")
        #expect(try harness.store.read { try $0.records(with: .email(matching: "old@acme.io"), entity: .contact, limit: 5).total } == 0)

        // The chain ends with the purge and still verifies, head included.
        let trail = try harness.audit(old.id)
        #expect(trail.map(\.operation) == [.create, .softDelete, .purge])
        #expect(trail.last?.actor == "ops")
        #expect(!(trail.last?.changes.contains { $0.field == "job_title" } ?? true), "purged values are not repeated")
        let all = try harness.store.read { reader in
            try reader.outbox(topic: "audit.events.v1", afterID: 0, limit: 10_000).map { try JSONDecoder().decode(AuditEvent.self, from: $0.message.value) }
        }
        #expect(AuditVerifier.verify(all).isEmpty)
        #expect(try harness.store.read { try $0.auditHead(of: old.id)?.seq } == 3)

        // A later event for the purged person starts a new record instead of reviving the old one.
        try harness.send("crm.events.v1", [canonical("c-again", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-20T10:00:00Z", externalID: "003OLD", fields: #"{"email":"old@acme.io"}"#)])
        let again = try #require(try harness.record("salesforce", "003OLD"))
        #expect(again.deletedAt == nil)
        #expect(again.fields["job_title"] == nil)

        // Running it again finds nothing more.
        #expect(try harness.stage.purge(deletedBefore: cutoff(harness), eventIDsSeenBefore: nil, dryRun: false, actor: "ops").records.isEmpty)
    }

    @Test func purgeClosesTheRecordsOpenReviewRequests() throws {
        let harness = try Harness(now: "2026-11-20T12:00:00Z")
        try harness.send("crm.events.v1", [canonical("deal", source: "crm", system: "salesforce", type: "deal.upserted",
                                                     at: "2026-09-01T09:00:00Z", externalID: "006A", fields: #"{"name":"Renewal","amount":50000}"#)])
        try harness.send("billing.events.v1", [canonical("deal-b", source: "billing", system: "salesforce", type: "deal.upserted",
                                                         at: "2026-09-02T09:00:00Z", externalID: "006A", fields: #"{"amount":48000}"#)])
        try harness.send("crm.events.v1", [canonical("deal-d", source: "crm", system: "salesforce", type: "deal.deleted",
                                                     at: "2026-10-01T09:00:00Z", externalID: "006A")])
        let review = try #require(try harness.store.read { try $0.reviewRequests(status: .open, limit: 10) }.first)
        harness.time.set(try Timestamp(rfc3339: "2026-12-21T12:00:00Z"))  // the delete's grace period has passed
        _ = try harness.stage.purge(deletedBefore: cutoff(harness), eventIDsSeenBefore: nil, dryRun: false, actor: "ops")
        #expect(try harness.store.read { try $0.reviewRequests(status: .open, limit: 10) }.isEmpty)
        #expect(try harness.store.read { try $0.reviewRequest(review.id)?.status } == .rejected)
    }

    @Test func purgeForgetsEventIDsSeenBeforeTheirCutoff() throws {
        let harness = try twoDeletedContacts()
        harness.time.set(Timestamp(epochMilliseconds: harness.time.now.epochMilliseconds + Self.day))
        try harness.send("crm.events.v1", [canonical("later", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-20T10:00:00Z", externalID: "003X", fields: #"{"email":"x@acme.io"}"#)])
        let report = try harness.stage.purge(deletedBefore: cutoff(harness), eventIDsSeenBefore: harness.time.now, dryRun: false, actor: "ops")
        #expect(report.eventIDs == 4)
        #expect(try harness.store.read { try $0.rememberedEvent(system: "salesforce", eventID: "c-new") } == nil)
        #expect(try harness.store.read { try $0.rememberedEvent(system: "salesforce", eventID: "later") } != nil)
    }
}
