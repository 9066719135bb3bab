import CRMModel
import Foundation
import Testing

@testable import Normalize

/// Every vendor fixture normalizes to exactly the canonical output in its `.expected.json`
/// (golden file), detected by shape *and* when named by the `crmsync-format` header.
///
/// To regenerate after an intended change: `CRMSYNC_BLESS_FIXTURES=1 swift test --filter VendorFixtureTests`,
/// then review the diff of the `.expected.json` files (blessing always fails the run once).
@Suite struct VendorFixtureTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let format: InputFormat
        let name: String
        var testDescription: String { "\(format.rawValue)/\(name)" }

        var source: Source {
            switch format {
            case .salesforceCDC, .canonical: .crm
            case .hubspotWebhook: .map
            case .stripe: .billing
            case .segment: .product
            }
        }
    }

    static let cases: [Case] = [InputFormat.salesforceCDC, .hubspotWebhook, .stripe, .segment].flatMap { format in
        Support.fixtureNames(format.rawValue).map { Case(format: format, name: $0) }
    }

    @Test func everyVendorHasFixtures() {
        for format in [InputFormat.salesforceCDC, .hubspotWebhook, .stripe, .segment] {
            #expect(Support.fixtureNames(format.rawValue).count >= 3, "\(format.rawValue) needs fixtures")
        }
    }

    @Test(arguments: cases)
    func fixtureMatchesGoldenOutput(_ testCase: Case) throws {
        let relative = "\(testCase.format.rawValue)/\(testCase.name)"
        let bytes = try Support.fixtureBytes("\(relative).json")
        let stage = Support.stage()

        let detected = Support.success(stage.normalize(Support.raw(bytes, source: testCase.source)))
        let named = Support.success(stage.normalize(Support.raw(bytes, source: testCase.source, format: testCase.format.rawValue)))
        #expect(detected == named, "shape detection and the crmsync-format header disagree")
        #expect(try NormalizeStage.detectFormat(JSONNode(JSONParser.parse(bytes))) == testCase.format)

        let actual = try Support.encode(detected)
        let expectedURL = Support.fixturesDirectory.appendingPathComponent("\(relative).expected.json")
        if ProcessInfo.processInfo.environment["CRMSYNC_BLESS_FIXTURES"] == "1" {
            try Data(actual.utf8).write(to: expectedURL)
            Issue.record("blessed \(relative).expected.json; review it and rerun without CRMSYNC_BLESS_FIXTURES")
            return
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(actual == expected, "normalized output of \(relative) differs from its .expected.json")

        // The golden file decodes back to the same values through the model's Codable.
        let decoded = try JSONDecoder().decode([NormalizedEvent].self, from: Data(expected.utf8))
        #expect(decoded == detected)
    }
}

/// Targeted facts about each adapter, stated independently of the golden files.
@Suite struct AdapterFactTests {
    let stage = Support.stage()

    func events(_ relative: String, source: Source) throws -> [NormalizedEvent] {
        Support.success(stage.normalize(Support.raw(try Support.fixtureBytes(relative), source: source)))
    }

    @Test func salesforceLeadCreate() throws {
        let events = try events("salesforce-cdc/lead-create.json", source: .crm)
        try #require(events.count == 1)
        let event = events[0].event
        #expect(event.eventID == "salesforce:0002343d-9d90-e395-ed20-cf416ba652ad:1:00Q5e00000BxWtREAV")
        #expect(event.type == EventType(.contact, .upserted))
        #expect(event.occurredAt == Timestamp(epochMilliseconds: 1_732_533_383_000))
        #expect(event.actor == "0055e000001SwR6AAK")
        #expect(event.fields["first_name"] == .string("Carole"))
        #expect(event.fields["job_title"] == .string("VP  Engineering"), "text keeps inner spacing; only names collapse")
        #expect(event.fields["email"] == .string("carole.white+leads@acme-robotics.co.uk"))
        #expect(event.fields["phone"] == .string("+14155550101"))
        #expect(event.fields["company_size"] == .string("size_201_500"))
        #expect(event.fields["lead_status"] == .string("open"))
        #expect(event.fields["company_domain"] == .string("acme-robotics.co.uk"), "derived from the website")
        #expect(event.fields["email_opt_out"] == .bool(false))
        #expect(events[0].matchKeys.phone == "+14155550101")
        #expect(events[0].matchKeys.email == "carole.white+leads@acme-robotics.co.uk", "custom domains keep +tags")
        #expect(events[0].matchKeys.nameCompany != nil)
    }

    @Test func salesforceUpdateCarriesOnlyChangedAndNulledFields() throws {
        let event = try events("salesforce-cdc/lead-update-nulled.json", source: .crm)[0].event
        #expect(Set(event.fields.keys) == ["last_name", "phone", "lead_status"])
        #expect(event.fields["phone"] == .null, "nulledFields become explicit nulls")
        #expect(event.fields["job_title"] == nil, "an unchanged null says nothing")
    }

    @Test func salesforceSeveralRecordIdsGiveOneEventEach() throws {
        let events = try events("salesforce-cdc/contact-update-optout-two-records.json", source: .crm)
        #expect(events.map(\.event.externalID) == ["0035e00000Zq1AAAAZ", "0035e00000Zq1BBAAZ"])
        #expect(Set(events.map(\.event.eventID)).count == 2)
        #expect(events.allSatisfy { $0.event.type == EventType(.contact, .unsubscribed) })
    }

    @Test func salesforceLeadConversion() throws {
        let event = try events("salesforce-cdc/lead-converted.json", source: .crm)[0].event
        #expect(event.type == EventType(.contact, .converted))
        #expect(event.externalID == "0035e00000Zq9ZZAAZ")
        #expect(event.convertedFrom == "00Q5e00000BxWtREAV")
    }

    @Test func salesforceOpportunityMoneyIsExact() throws {
        let event = try events("salesforce-cdc/opportunity-create.json", source: .crm)[0].event
        #expect(event.entity == .deal)
        #expect(event.fields["amount"] == .number(Decimal(string: "48250.50")!))
        #expect(event.fields["close_date"] == .timestamp(Timestamp(epochMilliseconds: 1_743_379_200_000)))
        #expect(event.fields["currency"] == .string("gbp"))
        #expect(event.fields["stage"] == .string("Prospecting"), "fields without a table keep their value")
    }

    @Test func hubspotBatch() throws {
        let events = try events("hubspot-webhook/contact-batch.json", source: .map)
        // The unmapped property change (page views) yields no event.
        #expect(events.count == 5)
        #expect(events[0].event.eventID == "hubspot:62515:2411371:1791021034:5101")
        #expect(events[1].event.fields["email"] == .string("john.doe+news@googlemail.com"))
        #expect(events[1].matchKeys.email == "johndoe@gmail.com")
        #expect(events[2].event.fields["lifecycle_stage"] == .string("mql"))
        #expect(events[2].event.actor == "enrollmentId:88172771")
        #expect(events[3].event.type == EventType(.contact, .unsubscribed))
        #expect(events[4].event.fields["phone"] == .null, "an empty propertyValue clears the property")
    }

    @Test func hubspotMergeDeleteRestore() throws {
        let events = try events("hubspot-webhook/contact-merge-and-deletion.json", source: .crm)
        #expect(events.map(\.event.type.rawValue) == ["contact.merged", "contact.deleted", "contact.restored"])
        #expect(events[0].event.mergedFrom == ["5102", "5103"])
        #expect(events[0].event.externalID == "5101")
    }

    @Test func hubspotCompanyAndDeal() throws {
        let events = try events("hubspot-webhook/company-and-deal.json", source: .crm)
        #expect(events[0].event.entity == .account)
        #expect(events[0].matchKeys.companyDomain == "acme-robotics.co.uk")
        #expect(events[1].event.fields["company_size"] == .string("size_1001_5000"))
        #expect(events[2].event.fields["amount"] == .number(Decimal(string: "48250.5")!))
        #expect(events[3].event.fields["close_date"] == .timestamp(Timestamp(epochMilliseconds: 1_743_379_200_000)))
    }

    @Test func stripeSubscriptionMRR() throws {
        let event = try events("stripe/subscription-updated.json", source: .billing)[0].event
        #expect(event.externalID == "cus_RHWrJ2mN8cTqPz")
        // 12 × £49/month + £1,200/year ÷ 12 = 588 + 100.
        #expect(event.fields["mrr"] == .number(688))
        #expect(event.fields["plan"] == .string("pro_monthly"))
        #expect(event.fields["billing_status"] == .string("active"))
        #expect(event.occurredAt == Timestamp(epochMilliseconds: 1_732_540_000_000))
    }

    @Test func stripeInvoicesAndCustomers() throws {
        let paid = try events("stripe/invoice-paid.json", source: .billing)[0].event
        #expect(paid.fields["last_invoice_at"] == .timestamp(Timestamp(epochMilliseconds: 1_732_540_104_000)))
        let failed = try events("stripe/invoice-payment-failed.json", source: .billing)[0].event
        #expect(failed.externalID == "cus_RHWrJ2mN8cTqPz", "an expanded customer object works too")
        #expect(failed.fields["billing_status"] == .string("payment_failed"))
        let created = try events("stripe/customer-created.json", source: .billing)[0]
        #expect(created.event.fields["country"] == .string("gb"))
        #expect(created.event.fields["phone"] == .string("+441614960000"))
        let deleted = try events("stripe/customer-deleted.json", source: .billing)[0].event
        #expect(deleted.type == EventType(.contact, .deleted))
        #expect(deleted.fields.isEmpty)
    }

    @Test func stripeCustomersAsAccounts() throws {
        var configuration = stage.configuration
        configuration.stripeCustomerEntity = .account
        let accountStage = try NormalizeStage(configuration: configuration)
        let bytes = try Support.fixtureBytes("stripe/customer-created.json")
        let event = Support.success(accountStage.normalize(Support.raw(bytes, source: .billing)))[0].event
        #expect(event.entity == .account)
        #expect(event.fields["company_name"] == .string("Carole White"))
        #expect(event.fields["email"] == nil)
    }

    @Test func segmentCalls() throws {
        let identify = try events("segment/identify.json", source: .product)[0]
        #expect(identify.event.eventID == "segment:022bb90c-bbac-11e4-8dfc-aa07a5b093db")
        #expect(identify.event.occurredAt == Timestamp(epochMilliseconds: 1_732_537_735_111), "timestamp wins, -05:00 → UTC")
        #expect(identify.event.fields["company_name"] == .string("Initech"))
        #expect(identify.event.fields["company_size"] == .string("size_51_200"))
        #expect(identify.event.fields["company_domain"] == .string("initech.com"))

        let track = try events("segment/track.json", source: .product)[0].event
        #expect(track.type == EventType(.contact, .tracked))
        #expect(track.fields["usage.report_exported"] == .number(1))
        #expect(track.fields["last_seen_at"] == .timestamp(track.occurredAt))

        let group = try events("segment/group.json", source: .product)[0]
        #expect(group.event.entity == .account)
        #expect(group.matchKeys.companyDomain == "initech.com")

        let batch = try events("segment/batch-page-alias-anonymous-track.json", source: .product)
        #expect(batch.map(\.event.type.rawValue) == ["contact.tracked", "contact.tracked", "contact.merged"])
        #expect(batch[0].event.externalID == "anonymous:9f1c2e3d-anon")
        #expect(batch[1].event.fields["usage.seats_added"] == .number(5))
        #expect(batch[2].event.mergedFrom == ["legacy%20user%2042"], "ids are escaped to visible ASCII")
    }

    @Test func segmentCompanyAsPlainString() throws {
        let text = #"{"type":"identify","messageId":"m9","userId":"u9","timestamp":"2024-11-25T12:00:00Z","traits":{"company":"  Initech  Inc ","email":"bob@gmail.com"}}"#
        let event = Support.success(stage.normalize(Support.raw(text, source: .product)))[0]
        #expect(event.event.fields["company_name"] == .string("Initech Inc"))
        #expect(event.event.fields["company_domain"] == nil, "free-mail addresses name no company")
    }

    @Test func salesforceOlderPayloadsWithoutNulledFields() throws {
        let text = #"{"ChangeEventHeader":{"entityName":"Contact","recordIds":["003A"],"changeType":"UPDATE","changedFields":["Title","Email"],"commitTimestamp":1732533383000},"Title":null,"Email":"a@initech.com","Phone":null,"event":{"replayId":77}}"#
        // No transactionKey: the replayId of the surrounding message identifies the change.
        let wrapped = #"{"payload":\#(text.replacingOccurrences(of: #","event":{"replayId":77}"#, with: "")),"event":{"replayId":77}}"#
        let event = Support.success(stage.normalize(Support.raw(wrapped)))[0].event
        #expect(event.eventID == "salesforce:replay:77:003A")
        #expect(event.fields["job_title"] == .null, "changed and now null means cleared")
        #expect(event.fields["phone"] == nil, "unchanged")
    }

    @Test func salesforceGapDeleteStillDeletes() throws {
        let text = #"{"ChangeEventHeader":{"entityName":"Account","recordIds":["001A","001B"],"changeType":"GAP_DELETE","transactionKey":"t","sequenceNumber":4,"commitTimestamp":1732533383000}}"#
        let events = Support.success(stage.normalize(Support.raw(text)))
        #expect(events.map(\.event.type) == [EventType(.account, .deleted), EventType(.account, .deleted)])
    }
}
