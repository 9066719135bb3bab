import CRMModel
import Dedup
import Testing

/// The pipeline prepares events for identity resolution on its normalize lanes, before the
/// writer has applied the events ahead of them: preparing must depend on the event alone, and
/// resolving a prepared event must decide exactly what resolving the event itself decides.
@Suite struct PreparedEventTests {
    @Test("a prepared event carries the event's own identifiers and proposed id")
    func preparedValues() throws {
        let factory = try EventFactory()
        let resolver = try IdentityResolver()
        let (_, appearances) = try PopulationTests.generate(people: 300, seed: 41, factory: factory)
        #expect(appearances.count > 300)
        for appearance in appearances {
            let prepared = resolver.prepare(appearance.event)
            #expect(prepared.normalized == appearance.event)
            #expect(prepared.keys == resolver.identifiers(of: appearance.event))
            #expect(prepared.proposedID == GoldenIDs.make(entity: appearance.event.event.entity, reference: appearance.event.externalReference))
        }
    }

    @Test("events prepared before any is applied resolve as events resolved one by one")
    func preparedAheadResolveTheSame() throws {
        let factory = try EventFactory()
        let (_, appearances) = try PopulationTests.generate(people: 400, seed: 43, factory: factory)
        let events = appearances.map(\.event)
        let oneByOne = try TemporaryStore(), ahead = try TemporaryStore()
        let direct = try Harness(store: oneByOne.store)
        let prepared = try Harness(store: ahead.store)
        let preparedEvents = events.map(prepared.resolver.prepare)
        var outcomes: [HarnessOutcome] = []
        for start in stride(from: 0, to: events.count, by: 50) {
            let end = min(start + 50, events.count)
            outcomes += try direct.process(batch: Array(events[start..<end]))
        }
        var aheadOutcomes: [HarnessOutcome] = []
        for start in stride(from: 0, to: events.count, by: 50) {
            let end = min(start + 50, events.count)
            aheadOutcomes += try prepared.process(prepared: Array(preparedEvents[start..<end]))
        }
        #expect(outcomes == aheadOutcomes)
        // The population exercises every decision, or the comparison proves little.
        #expect(outcomes.contains { if case .review = $0 { true } else { false } })
        #expect(Set(outcomes.compactMap { if case .applied(let id) = $0 { id } else { nil } }).count > 100)
    }
}
