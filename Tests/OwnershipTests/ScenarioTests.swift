import CRMModel
import Foundation
import Testing
@testable import Ownership

/// The conflicts of the seed articles and REFERENCES §B, one per test, with the audit output.
@Suite struct OwnershipScenarioTests {
    let engine = OwnershipEngine(policy: .default)

    @Test func mapCannotOverwriteARepsJobTitle() {
        // A rep fixes the title in Salesforce; ten minutes later HubSpot syncs an old form value.
        let rep = event("sf-1", .crm, 10, ["job_title": .string("VP Sales")])
        let form = event("hs-1", .map, 20, ["job_title": .string("Sales Intern")])
        let state = engine.apply(rep, to: .empty).state
        let resolution = engine.apply(form, to: state)
        #expect(resolution.record.fields["job_title"] == .string("VP Sales"))
        #expect(resolution.changes.isEmpty)
        #expect(resolution.rejected.map(\.field) == ["job_title"])
        #expect(resolution.rejected.first?.rule == "owner")
        #expect(resolution.record.provenance["job_title"]?.eventID == "sf-1")
    }

    @Test func mapFillsAnEmptyTitleUntilTheRepSetsOne() {
        let early = event("hs-1", .map, 5, ["job_title": .string("Engineer")])
        let later = event("hs-2", .map, 6, ["job_title": .string("Senior Engineer")])
        var state = engine.apply(early, to: .empty).state
        let second = engine.apply(later, to: state)
        // Among stand-ins the earliest fills the gap; later ones do not overwrite it.
        #expect(second.record.fields["job_title"] == .string("Engineer"))
        #expect(second.record.provenance["job_title"]?.rule == "fill-if-empty")
        state = second.state
        let rep = engine.apply(event("sf-1", .crm, 1, ["job_title": .string("CTO")]), to: state)
        // The owner wins even with an older event time.
        #expect(rep.record.fields["job_title"] == .string("CTO"))
        #expect(rep.changes == [FieldChange(field: "job_title", before: .string("Engineer"), after: .string("CTO"), rule: "owner")])
    }

    @Test func mapCannotResetAnSQLBackToMQL() {
        let crm = event("sf-1", .crm, 10, ["lifecycle_stage": .string("sql")])
        let map = event("hs-1", .map, 30, ["lifecycle_stage": .string("mql")])
        let state = engine.apply(crm, to: .empty).state
        let resolution = engine.apply(map, to: state)
        #expect(resolution.record.fields["lifecycle_stage"] == .string("sql"))
        #expect(resolution.changes.isEmpty)
        #expect(resolution.rejected.first?.reason.contains("backwards") == true)
    }

    @Test func mapMayRaiseToMQLButNeverToSQL() {
        var state = engine.apply(event("hs-1", .map, 1, ["lifecycle_stage": .string("lead")]), to: .empty).state
        let mql = engine.apply(event("hs-2", .map, 2, ["lifecycle_stage": .string("mql")]), to: state)
        #expect(mql.record.fields["lifecycle_stage"] == .string("mql"))
        state = mql.state
        let sql = engine.apply(event("hs-3", .map, 3, ["lifecycle_stage": .string("sql")]), to: state)
        #expect(sql.record.fields["lifecycle_stage"] == .string("mql"))
        #expect(sql.rejected.first?.reason == "map may set lifecycle_stage up to mql only")
        #expect(!sql.stateChanged)
    }

    @Test func disqualifiedIsCRMOnlyAndARequalificationLiftsIt() {
        var state = engine.fold([event("sf-1", .crm, 1, ["lifecycle_stage": .string("mql")]),
                                 event("sf-2", .crm, 2, ["lifecycle_stage": .string("disqualified")])])
        #expect(engine.resolve(state).fields["lifecycle_stage"] == .string("disqualified"))
        let map = engine.apply(event("hs-1", .map, 3, ["lifecycle_stage": .string("mql")]), to: state)
        #expect(map.record.fields["lifecycle_stage"] == .string("disqualified"))
        let mapDisq = engine.apply(event("hs-2", .map, 4, ["lifecycle_stage": .string("disqualified")]), to: .empty)
        #expect(mapDisq.record.fields["lifecycle_stage"] == nil)
        state = engine.apply(event("sf-3", .crm, 5, ["lifecycle_stage": .string("lead")]), to: state).state
        // Requalified by the CRM later in event time: the ladder's highest stage shows again.
        #expect(engine.resolve(state).fields["lifecycle_stage"] == .string("mql"))
    }

    @Test func anUnsubscribeSurvivesACRMSyncOfOptOutFalse() {
        let unsubscribe = event("hs-1", .map, 10, .unsubscribed, ["email_opt_out": .bool(true)])
        let sync = event("sf-1", .crm, 20, ["email_opt_out": .bool(false)])
        let state = engine.apply(unsubscribe, to: .empty).state
        let resolution = engine.apply(sync, to: state)
        #expect(resolution.record.fields["email_opt_out"] == .bool(true))
        #expect(resolution.changes.isEmpty)
        #expect(resolution.rejected.first?.rule == "sticky")
        // A non-explicit MAP sync does not lift it either; the explicit re-consent later in time does.
        let mapSync = engine.apply(event("hs-2", .map, 30, ["email_opt_out": .bool(false)]), to: resolution.state)
        #expect(mapSync.record.fields["email_opt_out"] == .bool(true))
        let staleReconsent = engine.apply(event("hs-3", .map, 5, .consentChanged, ["email_opt_out": .bool(false)]), to: mapSync.state)
        #expect(staleReconsent.record.fields["email_opt_out"] == .bool(true))
        // A re-consent at the very instant of the opt-out is not later: still unsubscribed.
        let tied = engine.apply(event("hs-5", .map, 10, .consentChanged, ["email_opt_out": .bool(false)]), to: staleReconsent.state)
        #expect(tied.record.fields["email_opt_out"] == .bool(true))
        let reconsent = engine.apply(event("hs-4", .map, 40, .consentChanged, ["email_opt_out": .bool(false)]), to: tied.state)
        #expect(reconsent.record.fields["email_opt_out"] == .bool(false))
        #expect(reconsent.changes.map(\.rule) == ["sticky"])
        // An unsubscribe from any source that happened before the re-consent arrives late: still lifted.
        let late = engine.apply(event("bill-1", .billing, 35, .unsubscribed, ["email_opt_out": .bool(true)]), to: reconsent.state)
        #expect(late.record.fields["email_opt_out"] == .bool(false))
    }

    @Test func consentRecordsTravelWithTheContactAndWithdrawalsStick() {
        let withdrawn = ConsentRecord(channel: "email", purpose: "marketing", granted: false, at: at(10), source: .crm, system: "salesforce")
        let regranted = ConsentRecord(channel: "email", purpose: "marketing", granted: true, at: at(20), source: .crm, system: "salesforce")
        let sms = ConsentRecord(channel: "sms", purpose: nil, granted: true, at: at(5), source: .map, system: "hubspot")
        var state = engine.fold([
            event("sf-1", .crm, 10, .consentChanged, ["consent": .consent([withdrawn])]),
            event("hs-1", .map, 5, ["consent": .consent([sms])]),
        ])
        let crmGrant = engine.apply(event("sf-2", .crm, 20, .consentChanged, ["consent": .consent([regranted])]), to: state)
        #expect(crmGrant.record.fields["consent"] == .consent([withdrawn, sms]))
        #expect(crmGrant.rejected.map(\.field) == ["consent"])
        #expect(crmGrant.record.consent == [sms, withdrawn, regranted])
        state = crmGrant.state
        let mapRegrant = ConsentRecord(channel: "email", purpose: "marketing", granted: true, at: at(30), source: .map, system: "hubspot")
        let lifted = engine.apply(event("hs-2", .map, 30, .consentChanged, ["consent": .consent([mapRegrant])]), to: state)
        #expect(lifted.record.fields["consent"] == .consent([mapRegrant, sms]))
    }

    @Test func aConflictingDealAmountBecomesAReviewAndTheRecordKeepsItsValue() throws {
        let crm = event("sf-1", .crm, 10, entity: .deal, ["amount": .number(50_000)])
        let billing = event("st-1", .billing, 20, entity: .deal, ["amount": .number(42_000)])
        let state = engine.apply(crm, to: .empty).state
        let resolution = engine.apply(billing, to: state)
        #expect(resolution.record.fields["amount"] == .number(50_000))
        #expect(resolution.changes.isEmpty)
        #expect(resolution.rejected.isEmpty)
        let review = try #require(resolution.reviews.first)
        #expect(resolution.reviews.count == 1)
        #expect(review.field == "amount")
        #expect(review.currentValue == .number(50_000))
        #expect(review.proposedValue == .number(42_000))
        #expect(review.proposedBy.eventID == "st-1")
        #expect(review.current?.eventID == "sf-1")
        #expect(review.owner == .crm)
        // Approval writes the held value with the owner's authority, audited as a change.
        let approved = engine.approve(review, approvalID: "review-1", approvedAt: at(30), to: resolution.state)
        #expect(approved.record.fields["amount"] == .number(42_000))
        #expect(approved.changes.count == 1)
        #expect(engine.approve(review, approvalID: "review-1", approvedAt: at(30), to: approved.state).changes.isEmpty)
        // The owner changing its own value is a normal update.
        let crmUpdate = engine.apply(event("sf-2", .crm, 25, entity: .deal, ["amount": .number(55_000)]), to: resolution.state)
        #expect(crmUpdate.reviews.isEmpty)
        #expect(crmUpdate.record.fields["amount"] == .number(55_000))
    }

    @Test func setOnceOriginalSourceArrivingLastStillWins() {
        let later = event("hs-1", .map, 50, ["original_source": .string("paid_search")])
        let first = event("sf-1", .crm, 5, ["original_source": .string("event")])
        let state = engine.apply(later, to: .empty).state
        let resolution = engine.apply(first, to: state)
        #expect(resolution.record.fields["original_source"] == .string("event"))
        #expect(resolution.changes == [FieldChange(field: "original_source", before: .string("paid_search"),
                                                   after: .string("event"), rule: "set-once")])
        let tooLate = engine.apply(event("pr-1", .product, 60, ["original_source": .string("direct")]), to: resolution.state)
        #expect(tooLate.record.fields["original_source"] == .string("event"))
        #expect(tooLate.rejected.first?.rule == "set-once")
    }

    @Test func aNullNeverErasesAValue() {
        let state = engine.apply(event("sf-1", .crm, 1, ["job_title": .string("CTO"), "industry": .string("software")]), to: .empty).state
        let resolution = engine.apply(event("sf-2", .crm, 2, ["job_title": .null, "phone": .null]), to: state)
        #expect(resolution.record.fields["job_title"] == .string("CTO"))
        #expect(resolution.record.fields["phone"] == nil)
        #expect(resolution.changes.isEmpty)
        #expect(resolution.rejected == [RejectedValue(field: "job_title", value: .null, rule: "owner", reason: "a null never erases a value")])
    }

    @Test func ignoredSourcesAndLastWriteWinsTies() {
        let scores = engine.apply(event("sf-1", .crm, 1, ["lead_score": .number(99)]), to: .empty)
        #expect(scores.record.fields["lead_score"] == nil)
        #expect(scores.rejected.first?.reason == "map owns lead_score; values from crm are ignored")
        #expect(!scores.stateChanged)
        // lead_status is not... use a default-policy field: last-write-wins, tie broken by priority.
        let policy = try? OwnershipPolicy.parse(text: """
            version: 1
            source_priority: map > crm
            fields:
              job_title: { policy: last-write-wins }
            """, file: "t.yml")
        let lww = OwnershipEngine(policy: policy ?? .default)
        let tie = lww.fold([event("sf-1", .crm, 7, ["job_title": .string("A")]), event("hs-1", .map, 7, ["job_title": .string("B")])])
        #expect(lww.resolve(tie).fields["job_title"] == .string("B"))
        let later = lww.apply(event("sf-2", .crm, 8, ["job_title": .string("C")]), to: tie)
        #expect(later.record.fields["job_title"] == .string("C"))
        #expect(later.record.provenance["job_title"]?.rule == "last-write-wins")
    }

    @Test func lastActivityIsTheMaximumOverAllSources() {
        let state = engine.fold([
            event("pr-1", .product, 9, ["last_activity_at": .timestamp(at(9))]),
            event("sf-1", .crm, 12, ["last_activity_at": .timestamp(at(4))]),
        ])
        #expect(engine.resolve(state).fields["last_activity_at"] == .timestamp(at(9)))
        #expect(engine.resolve(state).provenance["last_activity_at"]?.rule == "max")
    }

    @Test func usageCountersSumIncrementsOncePerEventAndRebaseOnTotals() {
        let one = event("seg-1", .product, 1, .tracked, ["usage.logins": .number(1)])
        let two = event("seg-2", .product, 2, .tracked, ["usage.logins": .number(3)])
        var state = engine.fold([one, two, one])
        #expect(engine.resolve(state).fields["usage.logins"] == .number(4))
        // A total as of minute 5 includes everything before it; increments after it add up.
        state = engine.fold([event("seg-3", .product, 6, .tracked, ["usage.logins": .number(2)]),
                             event("seg-t", .product, 5, ["usage.logins": .number(10)])], from: state)
        #expect(engine.resolve(state).fields["usage.logins"] == .number(12))
        #expect(engine.resolve(state).provenance["usage.logins"]?.eventID == "seg-3")
        #expect(state.fields["usage.logins"]?.candidates.count == 2)  // older increments compacted away
        let crm = engine.apply(event("sf-1", .crm, 9, ["usage.logins": .number(1000)]), to: state)
        #expect(crm.record.fields["usage.logins"] == .number(12))
    }

    @Test func anEchoOfCrmsyncsOwnWriteIsANoOp() {
        // MAP filled the title; crmsync writes it to the CRM; the CRM echoes it back.
        let state = engine.fold([event("hs-1", .map, 1, ["job_title": .string("Engineer"), "lead_score": .number(40)])])
        let record = engine.resolve(state)
        let echo = event("sf-echo", .crm, 2, ["job_title": .string("Engineer"), "lead_score": .number(40)])
        #expect(OwnershipEngine.isEcho(echo, of: record))
        let resolution = engine.apply(echo, to: state)
        #expect(resolution.isNoOp)
        #expect(resolution.rejected.isEmpty)
        // The CRM now holds the value too, which the history records for later events.
        #expect(resolution.stateChanged)
        #expect(resolution.record.provenance["job_title"]?.rule == "owner")
        #expect(!OwnershipEngine.isEcho(event("sf-x", .crm, 3, ["job_title": .string("CTO")]), of: record))
    }

    @Test func theAuditShapeOfAChangeHasExplicitNulls() throws {
        let change = FieldChange(field: "job_title", before: nil, after: .string("CTO"), rule: "owner")
        let json = String(decoding: try JSONEncoder().encode(change), as: UTF8.self)
        #expect(json.contains("\"before\":null"))
        #expect(json.contains("\"after\":\"CTO\""))
    }
}
