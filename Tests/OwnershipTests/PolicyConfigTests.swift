import CRMModel
import ConfigFiles
import Foundation
import Testing
@testable import Ownership

@Suite struct OwnershipPolicyConfigTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theEmbeddedDefaultIsTheShippedFile() throws {
        let path = Self.repoRoot.appendingPathComponent("config/ownership.yml").path
        let onDisk = try String(contentsOfFile: path, encoding: .utf8)
        #expect(OwnershipPolicy.shippedText == onDisk, "run scripts/embed-ownership-default.sh after editing config/ownership.yml")
        #expect(try OwnershipPolicy.load(path: path) == OwnershipPolicy.default)
    }

    @Test func theDefaultMapMatchesDesign8() {
        let policy = OwnershipPolicy.default
        for field in ["email", "first_name", "last_name", "phone", "job_title"] {
            #expect(policy.rule(for: field) == FieldRule(policy: .owner, owners: [.crm], others: .fillIfEmpty))
        }
        for field in ["industry", "company_size", "country"] {
            #expect(policy.rule(for: field) == FieldRule(policy: .owner, owners: [.enrichment, .crm], others: .fillIfEmpty))
        }
        for field in ["lead_score", "engagement_score"] {
            #expect(policy.rule(for: field) == FieldRule(policy: .owner, owners: [.map], others: .ignored))
        }
        #expect(policy.rule(for: "lead_source").policy == .setOnce)
        #expect(policy.rule(for: "original_source").policy == .setOnce)
        let ladder = policy.rule(for: "lifecycle_stage").ladder
        #expect(ladder?.order == ["subscriber", "lead", "mql", "sql", "opportunity", "customer"])
        #expect(ladder?.caps[.map] == "mql")
        #expect(ladder?.offLadder["disqualified"] == [.crm])
        #expect(policy.rule(for: "email_opt_out").policy == .sticky)
        #expect(policy.rule(for: "consent").policy == .sticky)
        for field in ["stage", "amount", "close_date", "primary_contact", "owner"] {
            #expect(policy.rule(for: field) == FieldRule(policy: .review, owners: [.crm], others: .fillIfEmpty))
        }
        for field in ["plan", "mrr", "billing_status", "last_invoice_at"] {
            #expect(policy.rule(for: field) == FieldRule(policy: .owner, owners: [.billing], others: .ignored))
        }
        #expect(policy.rule(for: "last_seen_at") == FieldRule(policy: .owner, owners: [.product], others: .ignored))
        #expect(policy.rule(for: "usage.reports_exported") == FieldRule(policy: .counter, owners: [.product]))
        #expect(policy.rule(for: "last_activity_at").policy == .max)
        #expect(policy.sourcePriority == [.crm, .enrichment, .billing, .product, .map])
        // Every catalogue field has an explicit entry (nothing falls through to the default).
        for entity in Entity.allCases {
            for field in FieldCatalogue.fields(of: entity) { #expect(policy.fields[field.name] != nil, "\(field.name)") }
        }
    }

    /// One bad file per kind of mistake: the error is one line naming the file, the line and the key.
    @Test(arguments: [
        ("unknown field", "fields:\n  job_titel: { policy: set-once }", 3, "fields.job_titel", "unknown field"),
        ("unknown wildcard", "fields:\n  \"deal.*\": { policy: max }", 3, "fields.deal.*", "wildcard"),
        ("unknown policy", "fields:\n  job_title: { policy: newest-wins }", 3, "fields.job_title.policy", "unknown policy \"newest-wins\""),
        ("others without owner", "fields:\n  lead_source:\n    policy: set-once\n    others: ignored", 5, "fields.lead_source.others", "applies only to policy owner"),
        ("owner missing", "fields:\n  job_title: { policy: owner, others: ignored }", 3, "fields.job_title.policy", "needs `owner:`"),
        ("unknown owner source", "fields:\n  job_title: { policy: owner, owner: salesforce }", 3, "fields.job_title.owner", "unknown source \"salesforce\""),
        ("bad others", "fields:\n  job_title: { policy: owner, owner: crm, others: sometimes }", 3, "fields.job_title.others", "unknown value"),
        ("cap names unknown stage", "fields:\n  lifecycle_stage:\n    policy: monotonic\n    order: lead < mql\n    caps: { map: sql }", 6, "fields.lifecycle_stage.caps.map", "unknown stage \"sql\""),
        ("cap names unknown source", "fields:\n  lifecycle_stage:\n    policy: monotonic\n    order: lead < mql\n    caps:\n      hubspot: mql", 7, "fields.lifecycle_stage.caps.hubspot", "unknown source"),
        ("monotonic without caps", "fields:\n  lifecycle_stage: { policy: monotonic, order: a < b }", 3, "fields.lifecycle_stage.policy", "needs `caps:`"),
        ("off-ladder stage on the ladder", "fields:\n  lifecycle_stage:\n    policy: monotonic\n    order: lead < mql\n    caps: { crm: mql }\n    off_ladder: { mql: crm }", 7, "fields.lifecycle_stage.off_ladder.mql", "on the ladder"),
        ("sticky on text", "fields:\n  job_title: { policy: sticky, owner: map }", 3, "fields.job_title.policy", "sticky needs a boolean or consent field"),
        ("caps on set-once", "fields:\n  lead_source: { policy: set-once, caps: { map: mql } }", 3, "fields.lead_source.caps", "does not apply to policy set-once"),
        ("typo in an option", "fields:\n  job_title: { policy: owner, ownr: crm }", 3, "fields.job_title.ownr", "unknown key"),
        ("unknown explicit action", "fields:\n  email_opt_out: { policy: sticky, owner: map, explicit: resubscribed }", 3, "fields.email_opt_out.explicit", "unknown event action"),
        ("counter on text", "fields:\n  job_title: { policy: counter, owner: product }", 3, "fields.job_title.policy", "counter needs a numeric field"),
        ("unknown priority source", "source_priority: crm > erp\nfields: {}", 2, "source_priority", "unknown source \"erp\""),
        ("duplicate priority source", "source_priority: crm > map > crm\nfields: {}", 2, "source_priority", "listed twice"),
        ("sticky default", "default: { policy: sticky, owner: map }\nfields: {}", 2, "default", "cannot be the default"),
        ("unknown top-level key", "feilds: {}", 2, "feilds", "unknown key"),
        ("duplicate field", "fields:\n  job_title: { policy: max }\n  job_title: { policy: max }", nil, nil, "duplicate key"),
    ] as [(String, String, Int?, String?, String)])
    func aBadFileFailsWithOneLineNamingFileLineAndKey(_ name: String, _ body: String, _ line: Int?, _ key: String?, _ message: String) {
        let text = "version: 1\n" + body + "\n"
        do {
            _ = try OwnershipPolicy.parse(text: text, file: "bad-ownership.yml")
            Issue.record("\(name): accepted")
        } catch {
            let description = error.description
            #expect(!description.contains("\n"), "\(name): \(description)")
            #expect(description.hasPrefix("bad-ownership.yml:"), "\(name): \(description)")
            if let line { #expect(error.line == line, "\(name): \(description)") }
            if let key { #expect(error.key == key, "\(name): \(description)") }
            #expect(description.contains(message), "\(name): \(description)")
        }
    }

    @Test func aMissingVersionOrFieldsIsNamed() {
        #expect(throws: ConfigError.self) { try OwnershipPolicy.parse(text: "fields: {}\n", file: "x.yml") }
        do {
            _ = try OwnershipPolicy.parse(text: "version: 1\n", file: "x.yml")
            Issue.record("accepted a file without fields")
        } catch {
            #expect(error.key == "fields")
            #expect(error.description.hasPrefix("x.yml:1: fields: missing"))
        }
    }

    @Test func anUnreadableFileIsNamed() {
        do {
            _ = try OwnershipPolicy.load(path: "/nonexistent/ownership.yml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.origin == "/nonexistent/ownership.yml")
            #expect(!error.description.contains("\n"))
        }
    }
}
