import Audit
import CRMModel
import Foundation
import Testing

@Suite("Audit hash chain")
struct AuditChainTests {
    func chain(_ goldenID: String, length: Int) -> [AuditEvent] {
        var events: [AuditEvent] = []
        var previous = AuditEvent.genesisHash
        for seq in 1...length {
            let event = AuditEvent(
                goldenID: goldenID, seq: seq, entity: .contact, operation: seq == 1 ? .create : .update,
                eventID: "evt-\(goldenID)-\(seq)", source: .crm, system: "salesforce", actor: "rep@example.com",
                occurredAt: Timestamp(epochMilliseconds: 1_767_225_600_000 + Int64(seq)),
                appliedAt: Timestamp(epochMilliseconds: 1_767_225_700_000 + Int64(seq)),
                changes: [AuditEvent.Change(field: "job_title", before: seq == 1 ? nil : .string("v\(seq - 1)"), after: .string("v\(seq)"), rule: "owner")],
                rejected: seq == 2 ? [AuditEvent.Rejection(field: "job_title", value: .string("Marketing says"), rule: "owner")] : [],
                prevHash: previous
            )
            previous = event.hash
            events.append(event)
        }
        return events
    }

    @Test("an intact chain verifies, in any order and with republished copies")
    func intact() {
        let events = chain("g-1", length: 5) + chain("g-2", length: 3)
        #expect(AuditVerifier.verify(events).isEmpty)
        #expect(AuditVerifier.verify(events.reversed() + events.prefix(2)).isEmpty)
    }

    @Test("audit ids are deterministic and distinct per position")
    func deterministicIDs() {
        let a = chain("g-1", length: 3)
        let b = chain("g-1", length: 3)
        #expect(a.map(\.auditID) == b.map(\.auditID))
        #expect(Set(a.map(\.auditID)).count == 3)
        #expect(a[0].auditID.count == 36)
    }

    @Test("an edited event, a removed link and a forged replacement are all detected")
    func tampering() {
        var edited = chain("g-1", length: 4)
        edited[1].changes[0].after = .string("forged")
        #expect(AuditVerifier.verify(edited).map(\.seq) == [2])

        var removed = chain("g-1", length: 4)
        removed.remove(at: 2)
        let gap = AuditVerifier.verify(removed)
        #expect(gap.contains { $0.seq == 3 && $0.problem.contains("missing") })

        // Re-sealing a forged event fixes its own hash but breaks the next link.
        var resealed = chain("g-1", length: 4)
        resealed[1].changes[0].after = .string("forged")
        resealed[1].hash = resealed[1].computeHash()
        #expect(AuditVerifier.verify(resealed).map(\.seq) == [3])

        var duplicated = chain("g-1", length: 2)
        var other = duplicated[1]
        other.appliedAt = Timestamp(epochMilliseconds: 1)
        duplicated.append(other)
        #expect(AuditVerifier.verify(duplicated).contains { $0.problem.contains("two different events") })
    }

    @Test("the published document has the keys of docs/contract.md#audit-event")
    func document() throws {
        let event = chain("g-9", length: 1)[0]
        let json = try #require(try JSONSerialization.jsonObject(with: Data(event.jsonBytes())) as? [String: Any])
        #expect(Set(json.keys) == ["audit_id", "golden_id", "seq", "entity", "operation", "event_id", "source", "system",
                                    "actor", "occurred_at", "applied_at", "changes", "rejected", "prev_hash", "hash"])
        let change = try #require((json["changes"] as? [[String: Any]])?.first)
        #expect(change["before"] is NSNull)
        #expect(change["after"] as? String == "v1")
        let decoded = try JSONDecoder().decode(AuditEvent.self, from: Data(event.jsonBytes()))
        #expect(decoded == event)
    }
}
