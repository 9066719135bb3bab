import CRMModel
import Foundation
import Normalize
import Normalizers
import Ownership
import PropertyBased
import SeededRandom
import Store
import Testing

/// Issue 14 item 1: the action carries the meaning. `contact.unsubscribed` opts out even when its
/// fields hold only an identifier; `contact.consent_changed` granting consent is the explicit
/// re-consent; every adapter's unsubscribe means the same.
@Suite struct UnsubscribeTests {
    static let email = "ada@lovelace-labs.io"

    @Test func anUnsubscribeCarryingOnlyAnEmailOptsOutAndIsAudited() throws {
        let harness = try Harness()
        try harness.send("crm.events.v1", [canonical("crm-1", source: "crm", system: "salesforce", type: "contact.upserted",
                                                     at: "2026-11-01T10:00:00Z", externalID: "003A1",
                                                     fields: #"{"email":"\#(Self.email)","first_name":"Ada","email_opt_out":false}"#)])
        let result = try harness.send("map.events.v1", [canonical("map-1", source: "map", system: "hubspot", type: "contact.unsubscribed",
                                                                  at: "2026-11-02T10:00:00Z", externalID: "501",
                                                                  fields: #"{"email":"\#(Self.email)"}"#)])
        #expect(result.outcomes["applied"] == 1)
        let record = try #require(try harness.record("salesforce", "003A1"))
        #expect(record.fields["email_opt_out"] == .bool(true))
        guard case .consent(let records)? = record.fields["consent"] else {
            Issue.record("no consent records: \(record.fields)")
            return
        }
        let withdrawn = records.filter { $0.channel == "email" && !$0.granted }
        #expect(withdrawn.map(\.at) == [try Timestamp(rfc3339: "2026-11-02T10:00:00Z")])
        let audit = try harness.audit(record.id)
        #expect(audit.contains { event in event.changes.contains { $0.field == "email_opt_out" && $0.after == .bool(true) } },
                "the unsubscribe is in the audit trail")
    }

    @Test func everyAdapterUnsubscribesTheSameWay() throws {
        let stage = try NormalizeStage(defaultPhoneRegion: "US", mappingTables: try MappingTables.load(path: "\(repositoryRoot)/config/picklists.yml"))
        let at = "2026-11-02T10:00:00Z"
        let inputs: [(String, Source, String?, String)] = [
            ("canonical", .map, "canonical", canonical("map-9", source: "map", system: "hubspot", type: "contact.unsubscribed", at: at,
                                                        externalID: "501", fields: #"{"email":"\#(Self.email)"}"#)),
            ("hubspot", .map, "hubspot-webhook",
             #"[{"eventId":9003,"subscriptionId":1,"portalId":1,"occurredAt":1793613600000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":501,"propertyName":"hs_email_optout","propertyValue":"true"}]"#),
            ("salesforce", .crm, nil,
             #"{"schema":"s","payload":{"ChangeEventHeader":{"entityName":"Contact","recordIds":["003A1"],"changeType":"UPDATE","changedFields":["HasOptedOutOfEmail"],"transactionKey":"t1","sequenceNumber":1,"commitTimestamp":1793613600000,"commitUser":"005x"},"HasOptedOutOfEmail":true},"event":{"replayId":7}}"#),
        ]
        for (name, source, format, json) in inputs {
            var headers: [(String, [UInt8])] = []
            if let format { headers.append((InputFormat.headerName, Array(format.utf8))) }
            let events = try stage.normalizeOrThrow(RawEvent(topic: "t", value: Array(json.utf8), headers: headers, source: source))
            let event = try #require(events.first?.event, "\(name)")
            #expect(event.type == EventType(.contact, .unsubscribed), "\(name): \(event.type)")
            #expect(event.fields["email_opt_out"] == .bool(true), "\(name)")
            guard case .consent(let records)? = event.fields["consent"] else {
                Issue.record("\(name): no consent record")
                continue
            }
            #expect(records.map { [$0.channel, "\($0.granted)", $0.at.rfc3339] } == [["email", "false", event.occurredAt.rfc3339]], "\(name)")
            #expect(event.occurredAt == (try Timestamp(rfc3339: at)), "\(name)")
        }
    }

    @Test func aConsentChangedGrantingEmailConsentIsTheExplicitReConsent() throws {
        let harness = try Harness()
        try harness.send("map.events.v1", [
            canonical("map-1", source: "map", system: "hubspot", type: "contact.unsubscribed", at: "2026-11-02T10:00:00Z", externalID: "501",
                      fields: #"{"email":"\#(Self.email)"}"#),
            // A CRM sync of `false` never lifts it …
            canonical("map-2", source: "map", system: "hubspot", type: "contact.upserted", at: "2026-11-03T10:00:00Z", externalID: "501",
                      fields: #"{"email_opt_out":false}"#),
        ])
        #expect(try harness.record("hubspot", "501")?.fields["email_opt_out"] == .bool(true))
        // … a consent_changed granting email consent (no email_opt_out field) does.
        try harness.send("map.events.v1", [canonical("map-3", source: "map", system: "hubspot", type: "contact.consent_changed",
                                                     at: "2026-11-04T10:00:00Z", externalID: "501",
                                                     fields: #"{"consent":[{"channel":"email","granted":true}]}"#)])
        #expect(try harness.record("hubspot", "501")?.fields["email_opt_out"] == .bool(false))
    }

    // MARK: Property

    /// Any set of events with an unsubscribe and no later explicit re-consent from an owner
    /// resolves to opted out, in every arrival order; with one, to opted in.
    @Test func anUnsubscribeWithoutALaterOwnerReConsentOptsOutInEveryOrder() async throws {
        let stage = try NormalizeStage(defaultPhoneRegion: "US", mappingTables: try MappingTables.load(path: "\(repositoryRoot)/config/picklists.yml"))
        let policy = try OwnershipPolicy.load(path: "\(repositoryRoot)/config/ownership.yml")
        let engine = OwnershipEngine(policy: policy)
        let owners = policy.rule(for: "email_opt_out").owners
        await propertyCheck(count: 200, input: Gen.int(in: 0...1_000_000_000).array(of: 1...8), Gen.int(in: 0...1_000_000_000)) { seeds, shuffle in
            let documents = seeds.enumerated().map { Self.randomEvent(index: $0.offset, seed: $0.element) }
            let events = documents.compactMap { json in
                try? stage.normalizeOrThrow(RawEvent(topic: "t", value: Array(json.utf8), source: .crm)).first?.event
            }
            #expect(events.count == documents.count, "every generated event normalizes")
            let lastUnsubscribe = events.filter { $0.type.action == .unsubscribed }.map(\.occurredAt).max()
            let lastReConsent = events.filter { event in
                event.type.action == .consentChanged && owners.contains(event.source) && event.fields["email_opt_out"] == .bool(false)
            }.map(\.occurredAt).max()
            var rng = SplitMix64(seed: UInt64(shuffle))
            let orders = [events, events.reversed()] + (0..<4).map { _ in events.shuffled(using: &rng) }
            for order in orders {
                let record = engine.resolve(order.reduce(RecordPolicyState.empty) { engine.apply($1, to: $0).state })
                guard let unsubscribed = lastUnsubscribe else { continue }
                if let lift = lastReConsent, lift > unsubscribed {
                    #expect(record.fields["email_opt_out"] == .bool(false), "re-consented later: \(documents)")
                } else {
                    #expect(record.fields["email_opt_out"] == .bool(true), "opted out in order \(order.map(\.eventID)): \(documents)")
                }
            }
        }
    }

    /// One random canonical event for contact 501: unsubscribes carrying only an email, syncs of
    /// `email_opt_out: false`, re-consents (from the owner or not), other field changes.
    static func randomEvent(index: Int, seed: Int) -> String {
        var rng = SplitMix64(seed: UInt64(seed))
        let sources = [("crm", "salesforce"), ("map", "hubspot"), ("billing", "stripe"), ("product", "segment")]
        let (source, system) = sources[Int(rng.next() % 4)]
        let at = "2026-11-0\(1 + rng.next() % 6)T10:00:00Z"
        let id = "e\(index)-\(seed)"
        switch rng.next() % 5 {
        case 0:
            return canonical(id, source: source, system: system, type: "contact.unsubscribed", at: at, externalID: "501",
                             fields: #"{"email":"\#(email)"}"#)
        case 1:
            return canonical(id, source: source, system: system, type: "contact.upserted", at: at, externalID: "501",
                             fields: #"{"email_opt_out":false}"#)
        case 2:
            return canonical(id, source: source, system: system, type: "contact.consent_changed", at: at, externalID: "501",
                             fields: #"{"consent":[{"channel":"email","granted":true}]}"#)
        case 3:
            return canonical(id, source: source, system: system, type: "contact.consent_changed", at: at, externalID: "501",
                             fields: #"{"email_opt_out":false}"#)
        default:
            return canonical(id, source: source, system: system, type: "contact.upserted", at: at, externalID: "501",
                             fields: #"{"job_title":"CTO"}"#)
        }
    }
}
