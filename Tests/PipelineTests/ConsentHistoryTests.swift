import CRMModel
import Foundation
import Ownership
import Store
import Testing

/// Issue 14 item 6 through the write stage: a record's golden document stays small however many
/// consent events it gets, and its audit trail still holds every consent record.
@Suite struct ConsentHistoryTests {
    @Test func manyConsentEventsKeepTheGoldenDocumentSmallAndTheAuditComplete() throws {
        let harness = try Harness()
        let count = 150
        var documents = [canonical("map-0", source: "map", system: "hubspot", type: "contact.upserted", at: "2026-11-01T00:00:00Z",
                                   externalID: "501", fields: #"{"email":"many.consents@lovelace-labs.io"}"#)]
        for index in 1...count {
            let at = Timestamp(epochMilliseconds: 1_793_500_000_000 + Int64(index) * 60_000).rfc3339
            documents.append(canonical("map-\(index)", source: "map", system: "hubspot", type: "contact.consent_changed", at: at, externalID: "501",
                                       fields: #"{"consent":[{"channel":"email","purpose":"newsletter-\#(index % 3)","granted":\#(index % 2 == 0)}]}"#))
        }
        // Arrival order is not event order: the newest first, so older records arrive late.
        try harness.send("map.events.v1", [documents[0]] + documents.dropFirst().reversed())
        let record = try #require(try harness.record("hubspot", "501"))
        #expect(record.consent.count <= RecordPolicyState.consentHistoryLimit + 3, "history has \(record.consent.count) records")

        let golden = try harness.store.read { reader in
            try reader.outbox(topic: "golden.records.v1", key: Data(record.id.utf8))
        }
        let last = try #require(golden.last?.message.value)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(last)) as? [String: Any])
        #expect((document["consent"] as? [Any])?.count ?? .max <= RecordPolicyState.consentHistoryLimit + 3)

        // Every consent record is in some audit event: as a change of `consent`, as
        // `consent_history`, or rejected.
        var audited = Set<String>()
        for event in try harness.audit(record.id) {
            for change in event.changes where change.field.hasPrefix("consent") {
                if case .consent(let records)? = change.after { audited.formUnion(records.map { "\($0.purpose ?? "")@\($0.at.rfc3339)" }) }
            }
            for rejection in event.rejected where rejection.field == "consent" {
                if case .consent(let records) = rejection.value { audited.formUnion(records.map { "\($0.purpose ?? "")@\($0.at.rfc3339)" }) }
            }
        }
        let all = Set((1...count).map { "newsletter-\($0 % 3)@\(Timestamp(epochMilliseconds: 1_793_500_000_000 + Int64($0) * 60_000).rfc3339)" })
        #expect(audited.count == count, "\(count - audited.count) consent records missing from the audit trail: \(all.subtracting(audited).sorted().prefix(8))")
    }
}
