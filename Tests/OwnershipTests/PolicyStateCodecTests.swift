import CRMModel
import Foundation
import Testing
@testable import Ownership

@Suite("Policy state: the stored binary form")
struct PolicyStateCodecTests {
    @Test("every value kind, consent, deletes and restores round-trip exactly")
    func everyKind() throws {
        let at = Timestamp(epochMilliseconds: 1_732_533_383_123)
        func candidate(_ value: FieldValue) -> Candidate {
            Candidate(value: value, source: .crm, system: "salesforce", eventID: "e-ü-1", occurredAt: at)
        }
        let consent = ConsentRecord(channel: "email", purpose: nil, granted: false, at: Timestamp(epochMilliseconds: -5), source: .map, system: "hubspot")
        var history = FieldHistory()
        history.slots[SlotKey(.crm, .latest)] = candidate(.string("Ünïcode ✓"))
        history.slots[SlotKey(.billing, .max)] = candidate(.number(Decimal(string: "-12345678901234567890.125")!))
        history.slots[SlotKey(.map, .earliest, "opt-out#email|")] = candidate(.consent([consent]))
        history.slots[SlotKey(.product, .latest, "inc:evt/with/slashes")] = candidate(.bool(true))
        history.slots[SlotKey(.enrichment, .latest)] = candidate(.timestamp(at))
        history.slots[SlotKey(.crm, .earliest)] = candidate(.set(["a", "b"]))
        history.slots[SlotKey(.map, .latest)] = candidate(.null)
        let state = RecordPolicyState(fields: ["f": history, "empty": FieldHistory()], consentLog: [consent],
                                      lastDelete: LifecycleMark(occurredAt: at, eventID: "d"), lastRestore: nil)
        #expect(try PolicyStateCodec.decode(PolicyStateCodec.encode(state)) == state)
        #expect(try PolicyStateCodec.decode(PolicyStateCodec.encode(.empty)) == .empty)
    }

    @Test("a damaged blob is an error, never a crash or a silently different state")
    func damaged() throws {
        var history = FieldHistory()
        history.slots[SlotKey(.crm, .latest)] = Candidate(value: .string("x"), source: .crm, system: "s", eventID: "e",
                                                          occurredAt: Timestamp(epochMilliseconds: 1))
        let blob = PolicyStateCodec.encode(RecordPolicyState(fields: ["email": history]))
        for length in 1..<blob.count {
            #expect(throws: (any Error).self) { try PolicyStateCodec.decode(blob.prefix(length)) }
        }
        #expect(throws: (any Error).self) { try PolicyStateCodec.decode(blob + Data([0])) }
    }

    @Test("the codec covers every stored property of RecordPolicyState (add new ones to PolicyStateCodec)")
    func coversEveryProperty() {
        let names = Mirror(reflecting: RecordPolicyState.empty).children.compactMap(\.label)
        #expect(names == ["fields", "consentLog", "lastDelete", "lastRestore"])
    }
}
