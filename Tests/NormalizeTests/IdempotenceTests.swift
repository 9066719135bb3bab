import CRMModel
import Foundation
import SeededRandom
import PropertyBased
import Testing

@testable import Normalize

/// normalize(envelope(normalize(x))) == normalize(x): a normalized event, re-published as a
/// canonical envelope, normalizes to itself. Inputs are random canonical envelopes built from
/// messy but valid raw values (mixed case, odd spacing, national phone formats, offsets, vendor
/// picklist labels), and every vendor fixture.
@Suite struct IdempotenceTests {

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Raw JSON values per field kind (already JSON-encoded).
    static func pool(for name: String, kind: FieldKind) -> [String] {
        switch kind {
        case .email: ["  Jane.Smith+Demo@Gmail.com", "ops@globex.co.uk", "JOHN@Example.ORG", "test@test.com", "a.b.c@googlemail.com", "user+tag@outlook.com"].map(quoted)
        case .phone: ["+1 415 555 0101", "(415) 555-0102", "+44 20 7946 0958", "415.555.0103"].map(quoted)
        case .name: [" Ann ", "Mary  Jane", "McDonald", "O'Brien", "José", "Globex   Corporation"].map(quoted)
        case .text: ["Head of Ops", " CTO ", "VP  Engineering", "user-17", "0015e00000Kp3QzAAJ"].map(quoted)
        case .domain: ["Globex.com", "https://www.acme.co.uk/x", "initech.com"].map(quoted)
        case .url: ["https://shop.globex.co.uk/en/", "initech.com", "http://www.example.org/about"].map(quoted)
        case .number: ["42", "7.5", "0", "-3", "1e2"]
        case .money: ["99.00", "\"1250.50\"", "0.1", "48250.5", "-12"]
        case .currency: ["EUR", "usd", " GBP "].map(quoted)
        case .boolean: ["true", "false"]
        case .timestamp: ["2024-11-25T09:15:30.250+01:00", "2024-11-25T08:00:00Z", "2024-02-29T23:59:59.999-05:30", "1999-12-31T23:59:60Z"].map(quoted)
        case .multiSelect: [#"["b","a","a"]"#]
        case .consent: [
            #"[{"channel":"Email","purpose":"marketing","granted":true}]"#,
            #"[{"channel":"sms","granted":false,"at":"2024-11-20T08:00:00Z","source":"crm","system":"salesforce"},{"channel":"email","granted":true,"purpose":null}]"#,
        ]
        case .picklist:
            switch name {
            case "industry": ["Software", "banking", "Other"].map(quoted)
            case "company_size": ["51-200", "size_1_10", "10001+"].map(quoted)
            case "country": ["United Kingdom", "US", "de"].map(quoted)
            case "lead_source", "original_source": ["Web", "organic_search"].map(quoted)
            case "lifecycle_stage": ["lead", "MQL", "customer", "disqualified"].map(quoted)
            case "lead_status": ["open", "In Progress"].map(quoted)
            case "billing_status": ["active", "canceled", "past_due"].map(quoted)
            default: ["Prospecting", "Enterprise Plus", "pro"].map(quoted)
            }
        }
    }

    static func randomEnvelope(seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)  // one seed reproduces one envelope (PropertyBased reports it)
        let entity = Entity.allCases.randomElement(using: &rng) ?? .contact
        let actions = Action.allCases.filter { EventType.isAllowed(entity, $0) }
        let action = actions.randomElement(using: &rng) ?? .upserted
        var fields: [String] = []
        for definition in FieldCatalogue.fields(of: entity) where Bool.random(using: &rng) {
            let value = Int.random(in: 0..<10, using: &rng) == 0
                ? "null"
                : (pool(for: definition.name, kind: definition.kind).randomElement(using: &rng) ?? "null")
            fields.append("\(quoted(definition.name)):\(value)")
        }
        if FieldCatalogue.allowsUsage(entity), Bool.random(using: &rng) {
            fields.append(#""usage.logins":\#(Int.random(in: 0...1000, using: &rng))"#)
        }
        if action == .merged { fields.append(#""merged_from":["m-1","m-2"]"#) }
        if action == .converted { fields.append(#""converted_from":"00Q5e00000BxWtREAV""#) }
        let system = ["salesforce", "hubspot", "webflow"].randomElement(using: &rng) ?? "webflow"
        let source = Source.allCases.randomElement(using: &rng) ?? .crm
        let actor = Bool.random(using: &rng) ? quoted("user 7") : "null"
        return """
            {"event_id":"evt-\(seed)","source":"\(source.rawValue)","system":"\(system)","type":"\(entity.rawValue).\(action.rawValue)",\
            "occurred_at":"2024-11-25T10:00:00.123+02:00","actor":\(actor),"entity":"\(entity.rawValue)",\
            "external_id":"ext-\(seed % 1000)","fields":{\(fields.joined(separator: ","))}}
            """
    }

    /// Normalizes, re-serializes as an envelope, normalizes again; both must agree exactly.
    static func checkFixpoint(_ first: [NormalizedEvent], stage: NormalizeStage, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for normalized in first {
            let envelope = try Support.envelope(normalized.event)
            let again = Support.success(stage.normalize(Support.raw(envelope, source: normalized.event.source)), sourceLocation: sourceLocation)
            #expect(again == [normalized], "not idempotent: \(String(decoding: envelope, as: UTF8.self))", sourceLocation: sourceLocation)
            // And the envelope we write is stable byte for byte.
            if let second = again.first {
                #expect(try Support.envelope(second.event) == envelope, sourceLocation: sourceLocation)
            }
        }
    }

    @Test func randomCanonicalEnvelopesAreFixpoints() async throws {
        let stage = Support.stage()
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let text = Self.randomEnvelope(seed: UInt64(seed))
            let first = Support.success(stage.normalize(Support.raw(text, format: "canonical")))
            #expect(first.count == 1, "\(text)")
            try Self.checkFixpoint(first, stage: stage)
        }
    }

    @Test(arguments: VendorFixtureTests.cases)
    func vendorOutputIsAFixpoint(_ testCase: VendorFixtureTests.Case) throws {
        let stage = Support.stage()
        let bytes = try Support.fixtureBytes("\(testCase.format.rawValue)/\(testCase.name).json")
        let first = Support.success(stage.normalize(Support.raw(bytes, source: testCase.source)))
        #expect(!first.isEmpty)
        try Self.checkFixpoint(first, stage: stage)
    }

    @Test func redeliveryGivesIdenticalEvents() throws {
        // Same bytes, same events, same ids: what dedup's "event ids are remembered" relies on.
        let stage = Support.stage()
        for testCase in VendorFixtureTests.cases {
            let bytes = try Support.fixtureBytes("\(testCase.format.rawValue)/\(testCase.name).json")
            let once = stage.normalize(Support.raw(bytes, source: testCase.source))
            let twice = stage.normalize(Support.raw(bytes, source: testCase.source))
            #expect(try once.get() == twice.get())
        }
    }
}
