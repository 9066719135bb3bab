import CRMModel
import Foundation
import PropertyBased
import Testing
@testable import Ownership

/// Properties of docs/contract.md#ownership: a record is a pure function of the set of events applied to it.
@Suite struct OwnershipPropertyTests {
    let engine = OwnershipEngine(policy: .default)
    /// Each integer expands into one random event (see `RandomEvents`); arrays shrink well.
    static let eventSeeds = Gen.int(in: 0...1_000_000_000).array(of: 1...12)
    static let shuffleSeed = Gen.int(in: 0...1_000_000_000)

    @Test func everyArrivalOrderGivesTheSameRecordAndProvenance() async {
        await propertyCheck(count: 300, input: Self.eventSeeds, Self.shuffleSeed) { seeds, shuffle in
            let events = RandomEvents.events(seeds)
            let reference = engine.fold(events)
            let expected = engine.resolve(reference)
            var rng = SplitMix(seed: shuffle)
            var orders = [Array(events.reversed())]
            for _ in 0..<6 { orders.append(events.shuffled(using: &rng)) }
            for order in orders {
                let state = engine.fold(order)
                #expect(state == reference, "history differs for order \(order.map(\.eventID))")
                #expect(engine.resolve(state) == expected, "record differs for order \(order.map(\.eventID))")
            }
        }
    }

    @Test func redeliveringAnEventChangesNothing() async {
        await propertyCheck(count: 300, input: Self.eventSeeds, Self.shuffleSeed) { seeds, pick in
            let events = RandomEvents.events(seeds)
            let state = engine.fold(events)
            let again = engine.apply(events[pick % events.count], to: state)
            #expect(again.changes.isEmpty)
            #expect(!again.stateChanged)
            #expect(again.state == state)
            // A redelivered conflicting value re-raises the same review (same key), never a new one.
            #expect(again.reviews.allSatisfy { $0.proposedBy.eventID == events[pick % events.count].eventID })
            #expect(Set(again.reviews.map(\.key)).count == again.reviews.count)
        }
    }

    @Test func ownerValuesAreNeverOverwrittenByNonOwners() async {
        let ownerFields = ["job_title", "first_name", "lead_score", "amount", "industry"]
        await propertyCheck(count: 300, input: Self.eventSeeds) { seeds in
            var state = RecordPolicyState.empty
            for event in RandomEvents.events(seeds) {
                let resolution = engine.apply(event, to: state)
                for field in ownerFields {
                    let owners = engine.policy.rule(for: field).owners
                    guard let before = engine.resolve(state).provenance[field], owners.contains(before.source),
                          !owners.contains(event.source) else { continue }
                    // A non-owner event never changes (or re-attributes) an owner's value.
                    #expect(resolution.record.fields[field] == engine.resolve(state).fields[field])
                    #expect(resolution.record.provenance[field] == before)
                    #expect(!resolution.changes.contains { $0.field == field })
                }
                state = resolution.state
            }
            // And in the end, any field an owner ever set shows an owner's value.
            let record = engine.resolve(state)
            for field in ownerFields {
                let owners = engine.policy.rule(for: field).owners
                let ownerSetIt = RandomEvents.events(seeds).contains { event in
                    owners.contains(event.source) && (event.fields[field].map { $0 != .null } ?? false)
                }
                if ownerSetIt { #expect(record.provenance[field].map { owners.contains($0.source) } == true) }
            }
        }
    }

    @Test func stagesNeverMoveBackwardsAndMAPNeverSetsSQLOrBeyond() async {
        let ladder = ["subscriber", "lead", "mql", "sql", "opportunity", "customer"]
        await propertyCheck(count: 300, input: Self.eventSeeds) { seeds in
            var state = RecordPolicyState.empty
            for event in RandomEvents.events(seeds) {
                let before = engine.resolve(state).fields["lifecycle_stage"]?.stringValue
                let resolution = engine.apply(event, to: state)
                let after = resolution.record.fields["lifecycle_stage"]?.stringValue
                if let before, let after, let from = ladder.firstIndex(of: before), let to = ladder.firstIndex(of: after) {
                    #expect(to >= from, "\(before) -> \(after) by \(event.source)")
                }
                if after != before, event.source != .crm, let after, let rank = ladder.firstIndex(of: after) {
                    #expect(rank <= 2, "\(event.source) moved the stage to \(after)")
                }
                if after == "disqualified" { #expect(resolution.record.provenance["lifecycle_stage"]?.source == .crm) }
                state = resolution.state
            }
            if let stage = engine.resolve(state).fields["lifecycle_stage"]?.stringValue,
               let rank = ladder.firstIndex(of: stage), rank >= 3 {
                #expect(engine.resolve(state).provenance["lifecycle_stage"]?.source == .crm)
            }
        }
    }

    @Test func anUnsubscribeIsLiftedOnlyByALaterExplicitOwnerReconsent() async {
        await propertyCheck(count: 300, input: Self.eventSeeds, Self.shuffleSeed) { seeds, shuffle in
            var rng = SplitMix(seed: shuffle)
            let events = RandomEvents.events(seeds).shuffled(using: &rng)
            var state = RecordPolicyState.empty
            var applied: [CanonicalEvent] = []
            for event in events {
                let before = engine.resolve(state).fields["email_opt_out"]
                let resolution = engine.apply(event, to: state)
                applied.append(event)
                if before == .bool(true), resolution.record.fields["email_opt_out"] == .bool(false) {
                    let latestOptOut = applied.filter { $0.fields["email_opt_out"] == .bool(true) }.map(\.occurredAt).max()
                    #expect(event.source == .map && event.action == .consentChanged)
                    #expect(event.fields["email_opt_out"] == .bool(false))
                    if let latestOptOut { #expect(event.occurredAt > latestOptOut) }
                }
                state = resolution.state
            }
            // Final record: opted out unless an explicit MAP re-consent is later than every opt-out.
            let optOuts = events.filter { $0.fields["email_opt_out"] == .bool(true) }.map(\.occurredAt)
            if let last = optOuts.max() {
                let lifted = events.contains {
                    $0.source == .map && $0.action == .consentChanged && $0.fields["email_opt_out"] == .bool(false) && $0.occurredAt > last
                }
                #expect(engine.resolve(state).fields["email_opt_out"] == .bool(!lifted))
            }
        }
    }

    @Test func mergeResolvesLikeApplyingAllEventsToOneRecord() async {
        await propertyCheck(count: 300, input: Self.eventSeeds, Self.eventSeeds, Self.shuffleSeed) { left, right, overlap in
            let a = RandomEvents.events(left)
            // Distinct ids for the second record, plus some shared events (both saw them).
            var b = right.enumerated().map { RandomEvents.event(index: 100 + $0.offset, seed: $0.element) }
            if overlap % 2 == 0 { b += a.prefix(overlap % 3) }
            let merged = engine.merge(engine.fold(a), engine.fold(b))
            var all: [CanonicalEvent] = []
            for event in a + b where !all.contains(event) { all.append(event) }
            let together = engine.fold(all)
            #expect(merged == together)
            #expect(engine.resolve(merged) == engine.resolve(together))
            #expect(engine.merge(engine.fold(b), engine.fold(a)) == merged)
            #expect(engine.merge(merged, merged) == merged)
        }
    }

    @Test func anEchoOfTheResolvedRecordChangesNothing() async {
        await propertyCheck(count: 300, input: Self.eventSeeds, Self.shuffleSeed) { seeds, echoSeed in
            let state = engine.fold(RandomEvents.events(seeds))
            let record = engine.resolve(state)
            var rng = SplitMix(seed: echoSeed)
            // Counters are left out: only the product owns them and crmsync never writes them back.
            let fields = record.fields.filter { !$0.key.hasPrefix("usage.") }
            guard !fields.isEmpty else { return }
            let echo = CanonicalEvent(eventID: "echo-\(echoSeed)", source: rng.pick(Source.allCases), system: "echo",
                                      type: EventType(.contact, .upserted), occurredAt: at(Int(rng.next() % 10)),
                                      externalID: "ext", fields: fields)
            #expect(OwnershipEngine.isEcho(echo, of: record))
            let resolution = engine.apply(echo, to: state)
            #expect(resolution.changes.isEmpty)
            #expect(resolution.rejected.isEmpty)
            #expect(resolution.reviews.isEmpty)
        }
    }

    /// Guards the generator itself: the properties above only mean something if random event
    /// sets actually reach the conflicts they are about.
    @Test func theRandomEventsReachEveryKindOfConflict() {
        var seen: [String: Int] = [:]
        for base in 0..<400 {
            let events = RandomEvents.events((0..<8).map { base * 8 + $0 })
            var state = RecordPolicyState.empty
            for event in events {
                let resolution = engine.apply(event, to: state)
                for rejection in resolution.rejected { seen["rejected \(rejection.rule)", default: 0] += 1 }
                if !resolution.reviews.isEmpty { seen["review", default: 0] += 1 }
                if resolution.changes.contains(where: { $0.field == "email_opt_out" && $0.after == .bool(false) && $0.before == .bool(true) }) {
                    seen["re-consent", default: 0] += 1
                }
                if resolution.changes.contains(where: { $0.before != nil && $0.rule == "set-once" }) { seen["late set-once", default: 0] += 1 }
                if event.source == .map, event.action == .consentChanged, event.fields["email_opt_out"] == .bool(false),
                   let optOut = engine.resolve(state).provenance["email_opt_out"], engine.resolve(state).fields["email_opt_out"] == .bool(true),
                   optOut.occurredAt == event.occurredAt {
                    seen["re-consent tied with the opt-out", default: 0] += 1
                }
                state = resolution.state
            }
            let times = Dictionary(grouping: events, by: \.occurredAt)
            if times.values.contains(where: { Set($0.map(\.source)).count > 1 }) { seen["cross-source tie", default: 0] += 1 }
        }
        for kind in ["rejected owner", "rejected monotonic", "rejected sticky", "rejected set-once", "rejected counter",
                     "review", "re-consent", "late set-once", "cross-source tie", "re-consent tied with the opt-out"] {
            #expect(seen[kind, default: 0] > 0, "never generated: \(kind) (\(seen))")
        }
    }

    @Test func theHistoryRoundTripsThroughItsPersistedForm() async throws {
        await propertyCheck(count: 200, input: Self.eventSeeds) { seeds in
            let state = engine.fold(RandomEvents.events(seeds))
            let data = try JSONEncoder().encode(state)
            let decoded = try JSONDecoder().decode(RecordPolicyState.self, from: data)
            #expect(decoded == state)
        }
    }

    @Test func theHistoryRoundTripsThroughTheStoredBinaryForm() async throws {
        await propertyCheck(count: 200, input: Self.eventSeeds) { seeds in
            let state = engine.fold(RandomEvents.events(seeds))
            let stored = PolicyStateCodec.encode(state)
            #expect(stored.first == PolicyStateCodec.marker)
            let decoded = try PolicyStateCodec.decode(stored)
            #expect(decoded == state)
            // Deterministic: the same history is always the same bytes.
            #expect(PolicyStateCodec.encode(decoded) == stored)
            // Blobs stored as JSON by earlier versions still read.
            let legacy = try PolicyStateCodec.decode(try JSONEncoder().encode(state))
            #expect(legacy == state)
        }
    }
}
