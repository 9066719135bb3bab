import CRMModel
import Foundation
import PropertyBased
import Testing

@testable import Normalize

@Suite struct JSONParserTests {
    func parse(_ text: String) throws(EventError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func numbersKeepTheirLiteral() throws {
        #expect(try parse("48250.50") == .number("48250.50"))
        #expect(try parse("-0.1e-3") == .number("-0.1e-3"))
        #expect(try parse("[true,false,null]") == .array([.bool(true), .bool(false), .null]))
    }

    @Test func escapesAndSurrogatePairs() throws {
        #expect(try parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\né😀"))
    }

    @Test func objectsKeepKeyOrder() throws {
        let value = try parse(#"{"b":1,"a":2,"c":{"z":[]}}"#)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "{\"a\":1,}", "\u{FEFF}{}"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: EventError.self) { try parse(text) }
        do {
            _ = try parse(text)
        } catch {
            #expect(error.errorClass == .malformedJSON)
        }
    }

    @Test func nestingLimit() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let shallow = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: EventError(.oversized, "JSON nesting deeper than 64 levels at byte 64")) { try parse(deep) }
        _ = try parse(shallow)
    }

    /// Any string survives a round trip through Foundation's encoder and our parser.
    @Test func stringsRoundTrip() async {
        let check: @Sendable (String) throws -> Void = { text in
            let encoded = try JSONEncoder().encode([text])
            #expect(try JSONParser.parse(Array(encoded)) == .array([.string(text)]))
        }
        await propertyCheck(count: 200, input: Gen.latin1.string(of: 0...40)) { try check($0) }
        // Below the surrogate block (the generator cannot produce surrogates anyway), then astral.
        await propertyCheck(count: 200, input: Gen.character(in: "\u{80}"..."\u{D7FF}").string(of: 0...20)) { try check($0) }
        await propertyCheck(count: 100, input: Gen.character(in: "\u{1F300}"..."\u{1FAFF}").string(of: 0...10)) { try check($0) }
    }
}

@Suite struct ModelTests {
    @Test func eventTypes() {
        #expect(EventType.allCases.count == 3 * Action.allCases.count - 2, "converted is contact-only")
        #expect(EventType(rawValue: "contact.consent_changed") == EventType(.contact, .consentChanged))
        #expect(EventType(rawValue: "contact") == nil)
        #expect(EventType(rawValue: "contact.upserted.extra") == nil)
        #expect(EventType(rawValue: "ticket.upserted") == nil)
        #expect(!EventType.isAllowed(.deal, .converted))
    }

    @Test func catalogueCoversDesignFieldNames() {
        let design = """
            email first_name last_name phone job_title company_name company_domain website industry company_size \
            country lead_score engagement_score lead_source original_source lifecycle_stage lead_status email_opt_out \
            consent plan mrr billing_status last_invoice_at last_seen_at last_activity_at
            """.split(separator: " ").map(String.init)
        #expect(FieldCatalogue.partyFields.map(\.name) == design)
        let deal = "name stage amount currency close_date primary_contact owner account".split(separator: " ").map(String.init)
        #expect(Set(deal).isSubset(of: Set(FieldCatalogue.dealFields.map(\.name))))
        #expect(FieldCatalogue.kind(of: "usage.logins", on: .contact) == .number)
        #expect(FieldCatalogue.kind(of: "usage.logins", on: .deal) == nil)
        #expect(FieldCatalogue.kind(of: "usage.", on: .contact) == nil)
        #expect(FieldCatalogue.kind(of: "usage.Logins", on: .contact) == nil)
        #expect(FieldCatalogue.kind(of: "amount", on: .contact) == nil)
        #expect(FieldCatalogue.kind(of: "owner", on: .account) == .text)
    }

    @Test func usageFieldSlugs() {
        #expect(FieldCatalogue.usageField(forActivity: "Report Exported") == "usage.report_exported")
        #expect(FieldCatalogue.usageField(forActivity: "  API call (v2)!! ") == "usage.api_call_v2")
        #expect(FieldCatalogue.usageField(forActivity: "🎉") == nil)
        let long = FieldCatalogue.usageField(forActivity: String(repeating: "a", count: 200))
        #expect(long.map(FieldCatalogue.isUsageField) == true)
    }

    @Test func nullStaysDistinctFromAbsent() throws {
        let event = CanonicalEvent(
            eventID: "e1", source: .crm, system: "salesforce", type: EventType(.contact, .upserted),
            occurredAt: Timestamp(epochMilliseconds: 0), externalID: "x", fields: ["phone": .null])
        let decoded = try JSONDecoder().decode(CanonicalEvent.self, from: JSONEncoder().encode(event))
        #expect(decoded.fields["phone"] == .null)
        #expect(decoded.fields["email"] == nil)
        #expect(decoded == event)
    }

    @Test func codableTypesFieldsThroughTheCatalogue() throws {
        let event = CanonicalEvent(
            eventID: "e2", source: .billing, system: "stripe", type: EventType(.account, .merged),
            occurredAt: Timestamp(epochMilliseconds: 1_732_533_383_123), actor: "me", externalID: "cus_1",
            fields: [
                "mrr": .number(Decimal(string: "1234.56")!), "last_invoice_at": .timestamp(Timestamp(epochMilliseconds: 5)),
                "email_opt_out": .bool(true), "plan": .string("pro"), "usage.seats": .number(3),
                "consent": .consent([ConsentRecord(channel: "email", granted: false, at: Timestamp(epochMilliseconds: 9), source: .map, system: "hubspot")]),
            ],
            mergedFrom: ["cus_0"])
        let data = try JSONEncoder().encode(event)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let fields = try #require(object["fields"] as? [String: Any])
        #expect(fields["merged_from"] as? [String] == ["cus_0"], "identity references travel inside fields")
        #expect(fields["last_invoice_at"] as? String == "1970-01-01T00:00:00.005Z")
        #expect(object["entity"] as? String == "account")
        #expect(try JSONDecoder().decode(CanonicalEvent.self, from: data) == event)
    }

    @Test func setValuesAreSortedAndUnique() {
        #expect(FieldValue.set(of: ["b", "a", "b"]) == .set(["a", "b"]))
    }
}

@Suite struct FormatSelectionTests {
    let stage = Support.stage()

    @Test func headerOverridesShape() throws {
        // A canonical envelope forced through the Segment adapter fails there, proving the header is obeyed.
        let canonical = MalformedInputTests.validEnvelope
        let error = Support.failure(stage.normalize(Support.raw(canonical, format: "segment")))
        #expect(error?.errorClass == .schema)
        #expect(error?.fieldPath == "type", "contact.upserted is not a Segment call type")
        // Header names are matched case- and whitespace-insensitively.
        #expect(stage.normalize(Support.raw(canonical, format: " Canonical ")).isSuccess)
    }

    @Test func lastHeaderWins() {
        var raw = Support.raw(MalformedInputTests.validEnvelope, format: "segment")
        raw.headers.append((InputFormat.headerName, Array("canonical".utf8)))
        #expect(stage.normalize(raw).isSuccess)
    }

    @Test func vendorEventsTakeTheirSourceFromTheTopic() throws {
        let bytes = try Support.fixtureBytes("hubspot-webhook/contact-batch.json")
        for source in [Source.crm, .map] {
            let events = Support.success(stage.normalize(Support.raw(bytes, source: source)))
            #expect(events.allSatisfy { $0.event.source == source && $0.event.system == "hubspot" })
        }
    }

    @Test func canonicalEventsKeepTheirOwnSource() {
        let text = MalformedInputTests.validEnvelope.replacingOccurrences(of: #""source":"crm""#, with: #""source":"enrichment""#)
        let events = Support.success(stage.normalize(Support.raw(text, source: .crm)))
        #expect(events.first?.event.source == .enrichment)
    }

    @Test func unsubscribeRecordsConsent() throws {
        let events = Support.success(stage.normalize(Support.raw(try Support.fixtureBytes("hubspot-webhook/contact-batch.json"), source: .map)))
        let unsubscribe = try #require(events.first { $0.event.type.action == .unsubscribed })
        let expected = ConsentRecord(channel: "email", granted: false, at: unsubscribe.event.occurredAt, source: .map, system: "hubspot")
        #expect(unsubscribe.event.fields["consent"] == .consent([expected]))
    }

    @Test func unknownPhoneRegionIsRejectedAtStartup() {
        #expect(throws: EventError.self) {
            _ = try NormalizeStage(defaultPhoneRegion: "XX", mappingTables: Support.tables)
        }
    }
}
