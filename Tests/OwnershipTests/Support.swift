import CRMModel
import Foundation
import SeededRandom
@testable import Ownership

/// Event-time instants as small integers of minutes after a fixed epoch (ties are easy to make).
func at(_ minute: Int) -> Timestamp {
    Timestamp(epochMilliseconds: 1_780_000_000_000 + Int64(minute) * 60_000)
}

let vendor: [Source: String] = [
    .crm: "salesforce", .map: "hubspot", .billing: "stripe", .product: "segment", .enrichment: "clearbit",
]

/// A canonical `upserted` event for tests.
func event(_ id: String, _ source: Source, _ minute: Int, entity: Entity = .contact, _ fields: [String: FieldValue]) -> CanonicalEvent {
    event(id, source, minute, .upserted, entity: entity, fields)
}

/// A canonical event for tests.
func event(_ id: String, _ source: Source, _ minute: Int, _ action: Action, entity: Entity = .contact,
           system: String? = nil, _ fields: [String: FieldValue]) -> CanonicalEvent {
    CanonicalEvent(eventID: id, source: source, system: system ?? vendor[source] ?? "x", type: EventType(entity, action),
                   occurredAt: at(minute), externalID: "ext-1", fields: fields)
}

extension OwnershipEngine {
    /// Applies events in the given order from an empty record.
    func fold(_ events: [CanonicalEvent], from state: RecordPolicyState = .empty) -> RecordPolicyState {
        events.reduce(state) { apply($1, to: $0).state }
    }
}

/// The shared ``SplitMix64``, so a property input (an integer) expands into a reproducible event.
typealias SplitMix = SplitMix64

extension SplitMix64 {
    /// Seeds from a property input; the offset keeps seed 0 away from the all-zero state.
    init(seed: Int) { self.init(seed: UInt64(bitPattern: Int64(seed)) &+ 0x9E37_79B9_7F4A_7C15) }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
}

/// Random events over a small universe: 5 sources, 8 instants (plenty of ties), every policy of
/// the default map, nulls, explicit re-consents, unsubscribes and counter increments.
enum RandomEvents {
    static let stages = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "disqualified"]

    static func value(for field: String, _ rng: inout SplitMix) -> FieldValue {
        if rng.chance(12) { return .null }
        switch field {
        case "job_title", "first_name": return .string(rng.pick(["CTO", "VP Sales", "Engineer", "Founder"]))
        case "original_source": return .string(rng.pick(["web", "event", "referral"]))
        case "lead_score", "amount": return .number(Decimal(rng.pick([10, 20, 30, 45])))
        case "usage.logins": return .number(Decimal(rng.pick([1, 2, 5])))
        case "last_activity_at": return .timestamp(at(rng.pick([0, 3, 7, 11])))
        case "lifecycle_stage": return .string(rng.pick(stages))
        case "email_opt_out": return .bool(rng.chance(40))
        case "industry": return .string(rng.pick(["software", "retail", "finance"]))
        case "consent":
            let record = ConsentRecord(channel: rng.pick(["email", "sms"]), purpose: rng.pick([nil, "marketing"]),
                                       granted: rng.chance(50), at: at(rng.pick([0, 1, 2, 3, 4, 5, 6, 7])),
                                       source: rng.pick(Source.allCases), system: "sys")
            return .consent([record])
        default: return .string("x")
        }
    }

    static let fields = ["job_title", "first_name", "original_source", "lead_score", "amount", "usage.logins",
                         "last_activity_at", "lifecycle_stage", "email_opt_out", "industry", "consent"]

    /// Event number `index` of a set, expanded from `seed`.
    static func event(index: Int, seed: Int) -> CanonicalEvent {
        var rng = SplitMix(seed: seed)
        if rng.chance(25) {
            // Consent traffic is dense on purpose: opt-outs, syncs of `false` and explicit
            // re-consents (mostly from the MAP, the owner) at colliding instants.
            let source = rng.chance(50) ? Source.map : rng.pick(Source.allCases)
            let action = rng.pick([Action.consentChanged, .unsubscribed, .upserted])
            return CanonicalEvent(eventID: "e\(index)-\(seed % 1000)", source: source, system: vendor[source] ?? "x",
                                  type: EventType(.contact, action), occurredAt: at(Int(rng.next() % 8)),
                                  externalID: "ext", fields: ["email_opt_out": .bool(action == .unsubscribed || rng.chance(30))])
        }
        let source = rng.pick(Source.allCases)
        let action: Action = rng.chance(15) ? .consentChanged : rng.chance(10) ? .tracked : rng.chance(10) ? .unsubscribed : .upserted
        var values: [String: FieldValue] = [:]
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let field = rng.pick(fields)
            values[field] = value(for: field, &rng)
        }
        let system = rng.chance(20) ? "other-\(source.rawValue)" : (vendor[source] ?? "x")
        return CanonicalEvent(eventID: "e\(index)-\(seed % 1000)", source: source, system: system,
                              type: EventType(.contact, action), occurredAt: at(Int(rng.next() % 8)),
                              externalID: "ext", fields: values)
    }

    static func events(_ seeds: [Int]) -> [CanonicalEvent] {
        seeds.enumerated().map { event(index: $0.offset, seed: $0.element) }
    }
}
