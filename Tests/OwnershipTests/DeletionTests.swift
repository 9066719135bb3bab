import CRMModel
import Foundation
import PropertyBased
import Testing
@testable import Ownership

/// Soft deletes on event time: the deleted state is a pure function of the set of delete,
/// restore and update events, like every field.
@Suite struct DeletionTests {
    let engine = OwnershipEngine(policy: .default)

    func delete(_ id: String, _ minute: Int, _ source: Source = .crm) -> CanonicalEvent { event(id, source, minute, .deleted, [:]) }
    func restore(_ id: String, _ minute: Int, _ source: Source = .crm) -> CanonicalEvent { event(id, source, minute, .restored, [:]) }

    @Test func aLateOlderRestoreDoesNotUndoANewerDelete() {
        let state = engine.fold([event("c", .crm, 0, ["job_title": .string("CTO")]), delete("d", 5), restore("r", 3)])
        #expect(state.deletedAt == at(5))
        #expect(engine.resolve(state).deletedAt == at(5))
    }

    @Test func aLateOlderDeleteDoesNotDeleteARecordRestoredLater() {
        let state = engine.fold([event("c", .crm, 0, ["job_title": .string("CTO")]), restore("r", 6), delete("d", 5)])
        #expect(state.deletedAt == nil)
    }

    @Test func anUpdateNeverResurrectsButStillUpdatesFields() {
        let deleted = engine.fold([event("c", .crm, 0, ["job_title": .string("CTO")]), delete("d", 5)])
        let update = engine.apply(event("u", .crm, 9, ["job_title": .string("CEO")]), to: deleted)
        #expect(update.record.deletedAt == at(5))
        #expect(update.record.fields["job_title"] == .string("CEO"))
    }

    @Test func theLatestDeleteGivesTheInstantAndTiesGoToTheGreaterEventID() {
        #expect(engine.fold([delete("d1", 2), delete("d2", 7), delete("d3", 4)]).deletedAt == at(7))
        // Same instant: the event ids decide, whatever the arrival order.
        #expect(engine.fold([delete("b", 4), restore("a", 4)]).deletedAt == at(4))
        #expect(engine.fold([restore("a", 4), delete("b", 4)]).deletedAt == at(4))
        #expect(engine.fold([delete("a", 4), restore("b", 4)]).deletedAt == nil)
    }

    @Test func aMergeKeepsTheSurvivorsOwnDeletesAndRestores() {
        let live = engine.fold([event("c1", .crm, 0, ["first_name": .string("Ann")])])
        let deletedLoser = engine.fold([event("c2", .map, 1, ["last_name": .string("Lee")]), delete("d", 3)])
        // A CRM merge deletes the losing duplicate: the survivor stays live and gains its values.
        let survivor = engine.merge(live, deletedLoser)
        #expect(survivor.deletedAt == nil)
        #expect(survivor.lastDelete == nil)
        #expect(survivor.fields["last_name"] != nil)
        // A deleted survivor stays deleted (a live duplicate does not resurrect it silently).
        let deletedSurvivor = engine.fold([event("c3", .crm, 0, ["first_name": .string("Ann")]), delete("d5", 5)])
        #expect(engine.merge(deletedSurvivor, live).deletedAt == at(5))
    }

    @Test func aDeleteStoredBeforeDeletesWereHistoryIsAdopted() throws {
        // A blob from an older crmsync: no last_delete key at all.
        let legacy = try JSONDecoder().decode(RecordPolicyState.self, from: Data(#"{"fields":{},"consent_log":[]}"#.utf8))
        #expect(legacy.lastDelete == nil)
        let adopted = legacy.adoptingLegacyDeletion(at(4))
        #expect(adopted.deletedAt == at(4))
        #expect(engine.apply(event("u", .crm, 9, ["job_title": .string("CEO")]), to: adopted).record.deletedAt == at(4))
        // A restore later in event time still lifts it; an older one does not.
        #expect(engine.apply(restore("r", 3), to: adopted).record.deletedAt == at(4))
        #expect(engine.apply(restore("r", 5), to: adopted).record.deletedAt == nil)
        // Only stores without any delete history adopt it.
        let restored = engine.fold([restore("r", 8)])
        #expect(restored.adoptingLegacyDeletion(at(4)) == restored)
    }

    @Test func theMarksRoundTripThroughThePersistedForm() throws {
        let state = engine.fold([delete("d", 3), restore("r", 2)])
        let decoded = try JSONDecoder().decode(RecordPolicyState.self, from: try JSONEncoder().encode(state))
        #expect(decoded == state)
        #expect(decoded.deletedAt == at(3))
    }

    /// Random sets of deletes, restores and updates at colliding instants: every arrival order
    /// gives the same deleted state and fields, and that state is "latest delete later than the
    /// latest restore".
    @Test func everyArrivalOrderOfDeletesRestoresAndUpdatesGivesTheSameRecord() async {
        let gen = Gen.int(in: 0...1_000_000).array(of: 1...10)
        await propertyCheck(count: 300, input: gen, Gen.int(in: 0...1_000_000)) { seeds, shuffle in
            let events = seeds.enumerated().map { index, seed -> CanonicalEvent in
                var rng = SplitMix(seed: seed)
                let minute = Int(rng.next() % 5)
                let id = "e\(index)-\(seed % 97)"
                switch rng.next() % 3 {
                case 0: return delete(id, minute, rng.pick(Source.allCases))
                case 1: return restore(id, minute, rng.pick(Source.allCases))
                default: return event(id, .crm, minute, ["job_title": .string(rng.pick(["CTO", "CEO", "VP"]))])
                }
            }
            let reference = engine.resolve(engine.fold(events))
            let marks = { (action: Action) in
                events.filter { $0.action == action }.map { LifecycleMark(occurredAt: $0.occurredAt, eventID: $0.eventID) }.max()
            }
            let expected: Timestamp? = marks(.deleted).flatMap { delete in
                marks(.restored).map { $0 >= delete } == true ? nil : delete.occurredAt
            }
            #expect(reference.deletedAt == expected)
            var rng = SplitMix(seed: shuffle)
            for order in [Array(events.reversed()), events.shuffled(using: &rng), events.shuffled(using: &rng)] {
                #expect(engine.resolve(engine.fold(order)) == reference, "order \(order.map(\.eventID))")
            }
        }
    }
}
