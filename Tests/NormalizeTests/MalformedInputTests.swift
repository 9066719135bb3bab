import CRMModel
import Foundation
import PropertyBased
import Testing

@testable import Normalize

/// A corpus of bad inputs: each yields exactly the expected error class and field path, and
/// nothing crashes.
@Suite struct MalformedInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let format: String?
        let expectedClass: EventError.Class
        let expectedPath: String?

        init(_ name: String, _ text: String, format: String? = nil, _ expectedClass: EventError.Class, at path: String? = nil) {
            self.init(name, Array(text.utf8), format: format, expectedClass, at: path)
        }

        init(_ name: String, _ bytes: [UInt8], format: String? = nil, _ expectedClass: EventError.Class, at path: String? = nil) {
            self.name = name
            self.bytes = bytes
            self.format = format
            self.expectedClass = expectedClass
            self.expectedPath = path
        }

        var testDescription: String { name }
    }

    static let validEnvelope = #"{"event_id":"e1","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2024-11-25T20:00:00Z","entity":"contact","external_id":"003x","fields":{}}"#

    static func envelope(fields: String) -> String {
        validEnvelope.replacingOccurrences(of: #""fields":{}"#, with: #""fields":\#(fields)"#)
    }

    static func salesforce(header: String, body: String = "") -> String {
        #"{"ChangeEventHeader":{\#(header)}\#(body)}"#
    }

    static let sfHeader = #""entityName":"Lead","recordIds":["00Q1"],"changeType":"UPDATE","transactionKey":"t1","sequenceNumber":1,"commitTimestamp":1732533383000,"commitUser":"005x""#

    static func hubspot(_ elements: String...) -> String { "[" + elements.joined(separator: ",") + "]" }

    static let hsCreation = #"{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1732533390123,"subscriptionType":"contact.creation","objectId":5101}"#

    static func hsChange(_ property: String, _ value: String) -> String {
        #"{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1732533390123,"subscriptionType":"contact.propertyChange","objectId":5101,"propertyName":"\#(property)","propertyValue":\#(value)}"#
    }

    static let stripeCharge = #"{"id":"evt_1","object":"event","created":1732533400,"type":"charge.succeeded","data":{"object":{"id":"ch_1","object":"charge","customer":"cus_1"}}}"#

    static let segmentIdentify = #"{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-11-25T12:00:00Z","traits":{"email":"a@initech.com"}}"#

    static let cases: [Case] = [
        // Bytes that are not one JSON document.
        Case("empty body", "", .malformedJSON),
        Case("whitespace only", " \n\t ", .malformedJSON),
        Case("truncated envelope", String(validEnvelope.prefix(60)), .malformedJSON),
        Case("truncated inside a string", #"{"event_id":"e1"#, .malformedJSON),
        Case("invalid UTF-8", [0x7B, 0x22, 0x61, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D], .malformedJSON),
        Case("overlong UTF-8 encoding", [0x22, 0xC0, 0xAF, 0x22], .malformedJSON),
        Case("trailing garbage", validEnvelope + " x", .malformedJSON),
        Case("two documents", validEnvelope + validEnvelope, .malformedJSON),
        Case("duplicate key", #"{"event_id":"e1","event_id":"e2"}"#, .malformedJSON),
        Case("lone surrogate escape", #"{"a":"\ud800"}"#, .malformedJSON),
        Case("raw control character", "{\"a\":\"x\u{01}y\"}", .malformedJSON),
        Case("single quotes", "{'a': 1}", .malformedJSON),
        Case("NaN literal", #"{"a": NaN}"#, .malformedJSON),
        Case("leading zero number", #"{"a": 012}"#, .malformedJSON),
        Case("deep nesting", String(repeating: "[", count: 100_000), .oversized),

        // JSON, but no accepted shape.
        Case("JSON null", "null", .schema, at: "$"),
        Case("JSON number", "42", .schema, at: "$"),
        Case("JSON string", #""contact.upserted""#, .schema, at: "$"),
        Case("JSON true with header", "true", format: "canonical", .schema, at: "$"),
        Case("empty object", "{}", .unknownFormat),
        Case("empty array", "[]", .unknownFormat),
        Case("array of numbers", "[1,2,3]", .unknownFormat),
        Case("object of nothing known", #"{"hello":"world"}"#, .unknownFormat),
        Case("unknown format header", validEnvelope, format: "xml", .unknownFormat, at: "headers.crmsync-format"),
        Case("header format not valid UTF-8 is unknown", validEnvelope, format: "canonical\u{FFFF}", .unknownFormat, at: "headers.crmsync-format"),

        // Canonical envelope.
        Case("canonical as array", "[" + validEnvelope + "]", format: "canonical", .schema, at: "$"),
        Case("huge field value", envelope(fields: #"{"job_title":"\#(String(repeating: "x", count: 10_000))"}"#), .oversized, at: "fields.job_title"),
        Case("huge identifier", validEnvelope.replacingOccurrences(of: #""003x""#, with: "\"\(String(repeating: "9", count: 300))\""), .oversized, at: "external_id"),
        Case("number out of range", envelope(fields: #"{"lead_score":1e400}"#), .invalidValue, at: "fields.lead_score"),
        Case("fields null", validEnvelope.replacingOccurrences(of: #""fields":{}"#, with: #""fields":null"#), .missingField, at: "fields"),
        Case("consent not an array", envelope(fields: #"{"consent":{"channel":"email","granted":true}}"#), .schema, at: "fields.consent"),
        Case("consent items of wrong type", envelope(fields: #"{"consent":["email"]}"#), .schema, at: "fields.consent[0]"),
        Case("invalid phone", envelope(fields: #"{"phone":"call me maybe"}"#), .invalidValue, at: "fields.phone"),
        Case("invalid company domain", envelope(fields: #"{"company_domain":"not a domain"}"#), .invalidValue, at: "fields.company_domain"),
        Case("unmapped picklist", envelope(fields: #"{"industry":"Underwater Basket Weaving"}"#), .unmappedValue, at: "fields.industry"),
        Case("currency not a code", validEnvelope.replacingOccurrences(of: "contact", with: "deal").replacingOccurrences(of: #""fields":{}"#, with: #""fields":{"currency":"dollars"}"#), .unmappedValue, at: "fields.currency"),

        // Salesforce CDC with parts missing.
        Case("sf header not an object", #"{"ChangeEventHeader":[]}"#, .schema, at: "ChangeEventHeader"),
        Case("sf missing recordIds", salesforce(header: sfHeader.replacingOccurrences(of: #""recordIds":["00Q1"],"#, with: "")), .missingField, at: "ChangeEventHeader.recordIds"),
        Case("sf empty recordIds", salesforce(header: sfHeader.replacingOccurrences(of: #"["00Q1"]"#, with: "[]")), .missingField, at: "ChangeEventHeader.recordIds"),
        Case("sf recordIds of objects", salesforce(header: sfHeader.replacingOccurrences(of: #"["00Q1"]"#, with: #"[{"id":"00Q1"}]"#)), .schema, at: "ChangeEventHeader.recordIds[0]"),
        Case("sf unknown entity", salesforce(header: sfHeader.replacingOccurrences(of: "Lead", with: "Case")), .unknownEntity, at: "ChangeEventHeader.entityName"),
        Case("sf gap event", salesforce(header: sfHeader.replacingOccurrences(of: #""UPDATE""#, with: #""GAP_UPDATE""#)), .invalidValue, at: "ChangeEventHeader.changeType"),
        Case("sf unknown change type", salesforce(header: sfHeader.replacingOccurrences(of: #""UPDATE""#, with: #""UPSERT""#)), .schema, at: "ChangeEventHeader.changeType"),
        Case("sf commitTimestamp as string", salesforce(header: sfHeader.replacingOccurrences(of: "1732533383000", with: #""2024-11-25""#)), .schema, at: "ChangeEventHeader.commitTimestamp"),
        Case("sf no change event id", salesforce(header: sfHeader.replacingOccurrences(of: #""transactionKey":"t1","#, with: "")), .missingField, at: "ChangeEventHeader.transactionKey"),
        Case("sf bad email", salesforce(header: sfHeader.replacingOccurrences(of: #""changeType":"UPDATE""#, with: #""changeType":"CREATE""#), body: #","Email":"@@""#), .invalidValue, at: "Email"),
        Case("sf bad number", salesforce(header: sfHeader.replacingOccurrences(of: #""changeType":"UPDATE""#, with: #""changeType":"CREATE""#), body: #","NumberOfEmployees":"lots""#), .unmappedValue, at: "NumberOfEmployees"),

        // HubSpot webhook batches with parts missing.
        Case("hs empty batch with header", "[]", format: "hubspot-webhook", .schema, at: "$"),
        Case("hs array of strings", #"["contact.creation"]"#, format: "hubspot-webhook", .schema, at: "[0]"),
        Case("hs second element lacks objectId", hubspot(hsCreation, hsCreation.replacingOccurrences(of: #","objectId":5101"#, with: "")), .missingField, at: "[1].objectId"),
        Case("hs unknown object type", hubspot(hsCreation.replacingOccurrences(of: "contact.creation", with: "ticket.creation")), .unknownEntity, at: "[0].subscriptionType"),
        Case("hs unknown change", hubspot(hsCreation.replacingOccurrences(of: "contact.creation", with: "contact.teleport")), .schema, at: "[0].subscriptionType"),
        Case("hs occurredAt as string", hubspot(hsCreation.replacingOccurrences(of: "1732533390123", with: #""yesterday""#)), .schema, at: "[0].occurredAt"),
        Case("hs invalid email value", hubspot(hsCreation, hsChange("email", #""not-an-email""#)), .invalidValue, at: "[1].propertyValue"),
        Case("hs unmapped lifecycle stage", hubspot(hsChange("lifecyclestage", #""other""#)), .unmappedValue, at: "[0].propertyValue"),
        Case("hs bad boolean", hubspot(hsChange("hs_email_optout", #""maybe""#)), .invalidValue, at: "[0].propertyValue"),
        Case("hs merge without merged ids", hubspot(hsCreation.replacingOccurrences(of: "contact.creation", with: "contact.merge")), .missingField, at: "[0].mergedObjectIds"),
        Case("hs huge event id", hubspot(hsCreation.replacingOccurrences(of: #""eventId":1"#, with: "\"eventId\":\"\(String(repeating: "7", count: 300))\"")), .oversized, at: "[0].eventId"),
        Case("hs stripe body under hubspot header", stripeCharge, format: "hubspot-webhook", .missingField, at: "subscriptionType"),

        // Stripe events with parts missing.
        Case("stripe unmodeled type", stripeCharge, .unknownEntity, at: "type"),
        Case("stripe missing created", stripeCharge.replacingOccurrences(of: #""created":1732533400,"#, with: ""), format: "stripe", .missingField, at: "created"),
        Case("stripe data without object", #"{"id":"evt_1","object":"event","created":1732533400,"type":"customer.created","data":{}}"#, .missingField, at: "data.object"),
        Case("stripe subscription without customer", #"{"id":"evt_1","object":"event","created":1732533400,"type":"customer.subscription.created","data":{"object":{"id":"sub_1","status":"active"}}}"#, .missingField, at: "data.object.customer"),
        Case("stripe created out of range", stripeCharge.replacingOccurrences(of: "1732533400", with: "1e300"), .invalidValue, at: "created"),

        // Segment calls with parts missing.
        Case("segment missing messageId", segmentIdentify.replacingOccurrences(of: #""messageId":"m1","#, with: ""), .missingField, at: "messageId"),
        Case("segment no user", segmentIdentify.replacingOccurrences(of: #""userId":"u1","#, with: ""), format: "segment", .missingField, at: "userId"),
        Case("segment bad timestamp", segmentIdentify.replacingOccurrences(of: "2024-11-25T12:00:00Z", with: "next tuesday"), .invalidValue, at: "timestamp"),
        Case("segment no time at all", segmentIdentify.replacingOccurrences(of: #""timestamp":"2024-11-25T12:00:00Z","#, with: ""), .missingField, at: "timestamp"),
        Case("segment unknown call", segmentIdentify.replacingOccurrences(of: "identify", with: "screenshot"), format: "segment", .schema, at: "type"),
        Case("segment traits not an object", segmentIdentify.replacingOccurrences(of: #"{"email":"a@initech.com"}"#, with: #""a@initech.com""#), .schema, at: "traits"),
        Case("segment batch with a non-object", #"{"batch":[\#(segmentIdentify),7]}"#, .schema, at: "batch[1]"),
    ]

    @Test(arguments: cases)
    func yieldsExpectedError(_ testCase: Case) {
        let result = Support.stage().normalize(Support.raw(testCase.bytes, format: testCase.format))
        guard let error = Support.failure(result) else { return }
        #expect(error.errorClass == testCase.expectedClass, "\(error)")
        #expect(error.fieldPath == testCase.expectedPath, "\(error)")
        #expect(error.stage == .normalize)
        #expect(!error.message.isEmpty)
        #expect(error.message.utf8.count < 400, "messages must not echo payloads")
    }

    @Test func oversizedMessageIsRejectedBeforeParsing() {
        // 900 KB of otherwise valid JSON.
        let padding = String(repeating: "a", count: 900 * 1024)
        let text = Self.envelope(fields: #"{"job_title":"\#(padding)"}"#)
        guard let error = Support.failure(Support.stage().normalize(Support.raw(text))) else { return }
        #expect(error.errorClass == .oversized)
        #expect(error.fieldPath == nil)
        #expect(error.message.contains("\(NormalizeConfiguration.defaultMaxMessageBytes)"))
    }

    @Test func messageLimitIsConfigurable() {
        let stage = Support.stage(maxMessageBytes: 100)
        let error = Support.failure(stage.normalize(Support.raw(Self.validEnvelope)))
        #expect(error?.errorClass == .oversized)
        #expect(Support.stage().normalize(Support.raw(Self.validEnvelope)).isSuccess)
    }

    @Test func tooManyEventsInOneMessage() {
        let elements = (0...NormalizeConfiguration.defaultMaxEventsPerMessage).map { index in
            Self.hsCreation.replacingOccurrences(of: #""eventId":1"#, with: #""eventId":\#(index)"#)
        }
        let text = "[" + elements.joined(separator: ",") + "]"
        let error = Support.failure(Support.stage().normalize(Support.raw(text)))
        #expect(error?.errorClass == .oversized)
    }

    @Test func oneBadPartDeadLettersTheWholeMessage() {
        let good = Self.hsChange("firstname", #""Ann""#)
        let bad = Self.hsChange("email", #""nope""#)
        let error = Support.failure(Support.stage().normalize(Support.raw(Self.hubspot(good, good, bad, good))))
        #expect(error?.fieldPath == "[2].propertyValue")
    }

    @Test func blockedIdentifiersNeverBecomeMatchKeys() {
        let text = Self.envelope(fields: #"{"email":"Test@Test.com","phone":"+44 7777 777777","first_name":"unknown"}"#)
        let events = Support.success(Support.stage().normalize(Support.raw(text)))
        #expect(events.first?.event.fields["email"] == .string("test@test.com"), "the value is kept")
        #expect(events.first?.matchKeys.email == nil)
        #expect(events.first?.matchKeys.phone == nil)
        #expect(events.first?.matchKeys.nameCompany == nil)
    }

    /// Known error classes only, and never a crash, for arbitrary bytes and for fixtures cut
    /// or corrupted at random places.
    @Test func arbitraryBytesNeverCrash() async throws {
        let stage = Support.stage()
        let seeds = try ["canonical/valid/contact-upserted-full.json", "salesforce-cdc/lead-create.json",
                         "hubspot-webhook/contact-batch.json", "stripe/subscription-updated.json", "segment/identify.json"]
            .map(Support.fixtureBytes)
        await propertyCheck(count: 400, input: Gen.int(in: 0...4), Gen.int(in: 0...100_000), Gen.uint8()) { seedIndex, position, byte in
            var bytes = seeds[seedIndex]
            let cut = position % (bytes.count + 1)
            // Alternate between truncation and a one-byte corruption.
            if position % 2 == 0 {
                bytes = Array(bytes.prefix(cut))
            } else if cut < bytes.count {
                bytes[cut] = byte
            }
            switch stage.normalize(Support.raw(bytes)) {
            case .success(let events):
                for event in events { #expect(!event.event.eventID.isEmpty) }
            case .failure(let error):
                #expect(EventError.Class.allCases.contains(error.errorClass))
            }
        }
        await propertyCheck(count: 200, input: Gen.uint8().array(of: 0...64)) { bytes in
            if case .failure(let error) = stage.normalize(Support.raw(bytes)) {
                #expect(EventError.Class.allCases.contains(error.errorClass))
            }
        }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
