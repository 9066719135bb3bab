import CRMModel
import Foundation
import Testing

@testable import Normalize

/// `topics/schemas/canonical-event.schema.json` and the Swift validator describe the same contract.
///
/// Two halves: (1) structure — the schema's required keys, enums, field names and per-field JSON
/// types equal what the Swift catalogue says; (2) behaviour — every fixture under
/// `Fixtures/canonical/valid` (schema-valid, checked offline with Python `jsonschema` by
/// `topics/schemas/check-fixtures.py`) is accepted by Swift or rejected only for a value the
/// schema cannot judge, and every fixture under `invalid/` is rejected with a structural class.
@Suite struct SchemaAgreementTests {
    static let schemaURL = Support.repositoryRoot.appendingPathComponent("topics/schemas/canonical-event.schema.json")

    static func loadSchema() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: schemaURL))
        return try #require(object as? [String: Any])
    }

    static func dictionary(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(value as? [String: Any], sourceLocation: sourceLocation)
    }

    static func strings(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        try #require(value as? [String], sourceLocation: sourceLocation)
    }

    @Test func envelopeStructureAgrees() throws {
        let schema = try Self.loadSchema()
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        #expect(schema["additionalProperties"] as? Bool == false)
        let required = try Self.strings(schema["required"])
        #expect(Set(required) == Set(CanonicalEvent.requiredEnvelopeKeys.map(\.rawValue)))
        let properties = try Self.dictionary(schema["properties"])
        #expect(Set(properties.keys) == Set(CanonicalEvent.EnvelopeKey.allCases.map(\.rawValue)))

        let sources = try Self.strings(try Self.dictionary(properties["source"])["enum"])
        #expect(sources == Source.allCases.map(\.rawValue))
        let entities = try Self.strings(try Self.dictionary(properties["entity"])["enum"])
        #expect(entities == Entity.allCases.map(\.rawValue))
        let types = try Self.strings(try Self.dictionary(properties["type"])["enum"])
        #expect(types == EventType.allCases.map(\.rawValue))

        let defs = try Self.dictionary(schema["$defs"])
        let identifier = try Self.dictionary(defs["identifier"])
        #expect(identifier["pattern"] as? String == "^[!-~]{1,\(CanonicalAdapter.maxIdentifierLength)}$")
        let actor = try Self.dictionary(properties["actor"])
        #expect(actor["maxLength"] as? Int == CanonicalAdapter.maxActorLength)
    }

    /// The JSON type(s) a field kind's values may take, as the Swift validator enforces them.
    static func jsonTypes(of kind: FieldKind) -> Set<String> {
        switch kind {
        case .text, .email, .phone, .name, .domain, .url, .currency, .picklist: ["string", "null"]
        case .number: ["number", "null"]
        case .money: ["number", "string", "null"]
        case .boolean: ["boolean", "null"]
        case .timestamp: ["string", "null"]
        case .multiSelect, .consent: ["array", "null"]
        }
    }

    /// Collects `type` values of a kind definition, following `anyOf` and local `$ref`s.
    static func schemaTypes(_ definition: [String: Any], defs: [String: Any]) throws -> Set<String> {
        var types = Set<String>()
        if let type = definition["type"] as? String { types.insert(type) }
        if let list = definition["type"] as? [String] { types.formUnion(list) }
        if let reference = definition["$ref"] as? String {
            let name = try #require(reference.split(separator: "/").last.map(String.init))
            types.formUnion(try schemaTypes(try dictionary(defs[name]), defs: defs))
        }
        for alternative in (definition["anyOf"] as? [[String: Any]]) ?? [] {
            types.formUnion(try schemaTypes(alternative, defs: defs))
        }
        return types
    }

    @Test(arguments: Entity.allCases)
    func fieldCatalogueAgrees(_ entity: Entity) throws {
        let schema = try Self.loadSchema()
        let defs = try Self.dictionary(schema["$defs"])
        let fields = try Self.dictionary(defs["\(entity.rawValue)-fields"])
        #expect(fields["additionalProperties"] as? Bool == false)
        let properties = try Self.dictionary(fields["properties"])

        var expectedNames = Set(FieldCatalogue.fields(of: entity).map(\.name))
        expectedNames.insert(FieldCatalogue.mergedFromKey)
        if entity == .contact { expectedNames.insert(FieldCatalogue.convertedFromKey) }
        #expect(Set(properties.keys) == expectedNames)

        for definition in FieldCatalogue.fields(of: entity) {
            let property = try Self.dictionary(properties[definition.name])
            #expect(property["$ref"] as? String == "#/$defs/kind-\(definition.kind.rawValue)", "\(definition.name)")
            let kindSchema = try Self.dictionary(defs["kind-\(definition.kind.rawValue)"])
            #expect(try Self.schemaTypes(kindSchema, defs: defs) == Self.jsonTypes(of: definition.kind), "\(definition.kind)")
        }

        let patterns = (fields["patternProperties"] as? [String: Any]) ?? [:]
        if FieldCatalogue.allowsUsage(entity) {
            #expect(Array(patterns.keys) == ["^usage\\.\(FieldCatalogue.usageNamePattern)$"])
        } else {
            #expect(patterns.isEmpty)
        }
    }

    @Test func everyKindHasASchemaDefinition() throws {
        let defs = try Self.dictionary(try Self.loadSchema()["$defs"])
        for kind in FieldKind.allCases {
            let definition = try Self.dictionary(defs["kind-\(kind.rawValue)"])
            #expect(try Self.schemaTypes(definition, defs: defs) == Self.jsonTypes(of: kind), "\(kind)")
        }
    }

    struct Expectation: Decodable, Sendable {
        let outcome: String
        let path: String?
    }

    static let expectations: [String: Expectation] = {
        let url = Support.fixturesDirectory.appendingPathComponent("canonical/expectations.json")
        guard let data = try? Data(contentsOf: url),
              let decoded = try? JSONDecoder().decode([String: Expectation].self, from: data)
        else { return [:] }
        return decoded
    }()

    static let fixtureFiles: [String] =
        Support.fixtureNames("canonical/valid").map { "valid/\($0).json" }
        + Support.fixtureNames("canonical/invalid").map { "invalid/\($0).json" }

    /// Classes for values the schema cannot judge (a real email, an existing date, a mapping).
    static let semanticClasses: Set<String> = ["invalid-value", "unmapped-value", "oversized"]

    @Test func everyFixtureHasAnExpectation() {
        #expect(Set(Self.fixtureFiles) == Set(Self.expectations.keys))
        #expect(Self.fixtureFiles.count >= 30)
    }

    @Test(arguments: fixtureFiles)
    func swiftAgreesWithSchemaVerdict(_ file: String) throws {
        let expectation = try #require(Self.expectations[file])
        let bytes = try Support.fixtureBytes("canonical/\(file)")
        let result = Support.stage().normalize(Support.raw(bytes, format: "canonical"))
        let schemaValid = file.hasPrefix("valid/")
        switch result {
        case .success(let events):
            #expect(expectation.outcome == "ok", "accepted, but expected \(expectation.outcome)")
            #expect(schemaValid, "Swift accepts a document the schema rejects")
            #expect(events.count == 1)
        case .failure(let error):
            #expect(error.errorClass.rawValue == expectation.outcome, "\(error)")
            #expect(error.fieldPath == expectation.path, "\(error)")
            if schemaValid {
                #expect(Self.semanticClasses.contains(error.errorClass.rawValue), "schema-valid input rejected structurally: \(error)")
            } else {
                #expect(!Self.semanticClasses.contains(error.errorClass.rawValue), "schema-invalid input rejected only semantically: \(error)")
            }
        }
    }
}
