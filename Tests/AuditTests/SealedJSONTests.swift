import Audit
import CRMModel
import Foundation
import Testing

@Suite("Audit: sealing with one encoding")
struct SealedJSONTests {
    @Test("sealedWithJSON gives the same event and the same bytes as sealing and then encoding",
          arguments: ["c-1", "a-\u{e9}\"quoted\"/slash", "g-\"hash\":\"\""])
    func sameBytes(goldenID: String) {
        let tricky = #"x","hash":"","golden_id":"c-1"#
        let parts = (
            goldenID: goldenID, seq: 3, entity: Entity.contact, operation: AuditEvent.Operation.update,
            eventID: "evt-\u{1F600}", source: Source.map, system: "hubspot", actor: Optional(tricky),
            occurredAt: Timestamp(epochMilliseconds: 1_767_225_600_123), appliedAt: Timestamp(epochMilliseconds: 1_767_225_700_000),
            changes: [AuditEvent.Change(field: "job_title", before: .string(tricky), after: .string("\"hash\":\"\""), rule: "owner")],
            rejected: [AuditEvent.Rejection(field: "consent", value: .bool(true), rule: "sticky")],
            prevHash: String(repeating: "ab", count: 32))
        let classic = AuditEvent(goldenID: parts.goldenID, seq: parts.seq, entity: parts.entity, operation: parts.operation,
                                 eventID: parts.eventID, source: parts.source, system: parts.system, actor: parts.actor,
                                 occurredAt: parts.occurredAt, appliedAt: parts.appliedAt, changes: parts.changes,
                                 rejected: parts.rejected, prevHash: parts.prevHash)
        let sealed = AuditEvent.sealedWithJSON(goldenID: parts.goldenID, seq: parts.seq, entity: parts.entity, operation: parts.operation,
                                               eventID: parts.eventID, source: parts.source, system: parts.system, actor: parts.actor,
                                               occurredAt: parts.occurredAt, appliedAt: parts.appliedAt, changes: parts.changes,
                                               rejected: parts.rejected, prevHash: parts.prevHash)
        #expect(sealed.event == classic)
        #expect(sealed.json == classic.jsonBytes())
        #expect(AuditVerifier.verify([sealed.event]).filter { $0.problem.contains("edited") }.isEmpty)
    }
}
