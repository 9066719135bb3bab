import CRMModel
import Foundation
import ModelGenerators
import Store
import Testing

@Suite("Golden record document: JSONWriter gives JSONEncoder's bytes")
struct GoldenDocumentJSONTests {
    @Test("documents with generated fields, provenance, consent and external ids", arguments: 0..<4)
    func sameBytes(seed: UInt64) throws {
        var generate = ModelGenerator(seed: 0x601D + seed)
        for _ in 0..<200 {
            let record = GoldenRecord(
                id: generate.string(maxPieces: 3), entity: Entity.allCases.randomElement(using: &generate.random) ?? .contact,
                version: Int64.random(in: 1...1_000_000, using: &generate.random), fields: generate.fields(),
                provenance: generate.provenances(), consent: (0..<Int.random(in: 0...3, using: &generate.random)).map { _ in generate.consent() },
                policyState: Data(), deletedAt: Bool.random(using: &generate.random) ? generate.timestamp() : nil,
                mergedInto: Bool.random(using: &generate.random) ? generate.string(maxPieces: 2) : nil,
                createdAt: generate.timestamp(), updatedAt: generate.timestamp())
            let document = GoldenRecordDocument(record: record, externalIDs: generate.stringLists())
            #expect(String(decoding: document.jsonBytes(), as: UTF8.self) == (try ModelGenerator.reference(document)))
        }
    }
}
