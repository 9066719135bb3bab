import Audit
import CRMModel
import Crypto
import Foundation
import ModelGenerators
import Testing

/// ``JSONWriter`` must write what `JSONEncoder` wrote before it (sorted keys, slashes kept):
/// audit hashes and published documents may not change with the encoder.
@Suite("JSONWriter: the same bytes as JSONEncoder")
struct JSONWriterTests {
    @Test("field values, dictionaries of them, provenance, consent and changes", arguments: 0..<8)
    func modelValues(seed: UInt64) throws {
        var generate = ModelGenerator(seed: 0xC0FFEE + seed)
        for _ in 0..<300 {
            let value = generate.value()
            var out = JSONWriter()
            out.value(value)
            #expect(out.text == (try ModelGenerator.reference(value)), "value \(value)")

            let fields = generate.fields()
            out = JSONWriter()
            out.fields(fields)
            #expect(out.text == (try ModelGenerator.reference(fields)))

            let provenance = generate.provenances()
            out = JSONWriter()
            out.provenance(provenance)
            #expect(out.text == (try ModelGenerator.reference(provenance)))

            let consent = (0..<3).map { _ in generate.consent() }
            out = JSONWriter()
            out.consent(consent)
            #expect(out.text == (try ModelGenerator.reference(consent)))

            let change = generate.change()
            out = JSONWriter()
            out.change(change)
            #expect(out.text == (try ModelGenerator.reference(change)))

            let lists = generate.stringLists()
            out = JSONWriter()
            out.stringLists(lists)
            #expect(out.text == (try ModelGenerator.reference(lists)))
        }
    }

    @Test("audit events: the document and the hash are what JSONEncoder gave", arguments: 0..<4)
    func auditEvents(seed: UInt64) throws {
        var generate = ModelGenerator(seed: 0xA0D17 + seed)
        for _ in 0..<200 {
            let event = AuditEvent(
                goldenID: generate.string(maxPieces: 4), seq: Int.random(in: 1...100_000, using: &generate.random), entity: .contact,
                operation: AuditEvent.Operation.allCases.randomElement(using: &generate.random) ?? .update,
                eventID: generate.string(maxPieces: 4), source: generate.source(), system: generate.string(maxPieces: 2),
                actor: Bool.random(using: &generate.random) ? generate.string(maxPieces: 3) : nil,
                occurredAt: generate.timestamp(), appliedAt: generate.timestamp(),
                changes: (0..<Int.random(in: 0...4, using: &generate.random)).map { _ in generate.change() },
                rejected: (0..<Int.random(in: 0...2, using: &generate.random)).map { _ in
                    AuditEvent.Rejection(field: generate.key(), value: generate.value(), rule: generate.string(maxPieces: 2))
                },
                prevHash: AuditEvent.genesisHash)
            let reference = try ModelGenerator.reference(event)
            #expect(String(decoding: event.jsonBytes(), as: UTF8.self) == reference)
            // The hash covers the JSONEncoder document with an empty hash, as it always did.
            var unsealed = event
            unsealed.hash = ""
            let body = try ModelGenerator.reference(unsealed)
            let expectedHash = SHA256.hash(data: Data((AuditEvent.genesisHash + body).utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(event.hash == expectedHash)
            #expect(event.auditID == Self.referenceAuditID(goldenID: event.goldenID, seq: event.seq, eventID: event.eventID))
        }
    }

    /// How audit ids were always formed: the first 32 hex digits of the digest as a UUID.
    static func referenceAuditID(goldenID: String, seq: Int, eventID: String) -> String {
        let digest = SHA256.hash(data: Data("crmsync-audit\u{0}\(goldenID)\u{0}\(seq)\u{0}\(eventID)".utf8))
        let hex = Array(digest.map { String(format: "%02x", $0) }.joined().prefix(32))
        return [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }.joined(separator: "-")
    }
}
