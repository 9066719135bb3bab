import CRMModel
import Foundation
import Kafka
import Normalize
import Normalizers
import Testing

@testable import Bench

/// The bench's workload must be what it claims: deterministic, the advertised mix, and real
/// input for the pipeline (every message but the poison normalizes, to the event ids the
/// latency measurement waits for).
@Suite struct WorkloadTests {
    static let topics = WorkloadTopics(crm: "crm.events.v1", map: "map.events.v1", billing: "billing.events.v1", product: "product.events.v1")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func generate(_ count: Int, seed: UInt64 = 7, existing: Int = 0) -> [WorkloadMessage] {
        var workload = Workload(seed: seed, topics: topics, existingPeople: existing)
        return (0..<count).map { _ in workload.next() }
    }

    @Test func sameSeedSameMessagesOtherSeedOthers() {
        #expect(Self.generate(500) == Self.generate(500))
        #expect(Self.generate(500).map(\.message) != Self.generate(500, seed: 8).map(\.message))
    }

    @Test func theMixIsTheAdvertisedOne() {
        let messages = Self.generate(20_000, existing: 1_000)
        func share(_ kind: WorkloadMessage.Kind) -> Double {
            Double(messages.filter { $0.kind == kind }.count) / Double(messages.count)
        }
        #expect((0.005...0.015).contains(share(.poison)))
        #expect((0.01...0.03).contains(share(.redelivery)))
        #expect((0.25...0.35).contains(share(.update)))
        #expect((0.02...0.04).contains(share(.duplicateSignup)))
        #expect(Set(messages.map(\.message.topic)) == [Self.topics.crm, Self.topics.map, Self.topics.billing, Self.topics.product])
        let canonical = messages.filter { $0.message.headers.string("crmsync-format") == "canonical" }.count
        let native = messages.count - canonical
        #expect(canonical > messages.count / 4 && native > messages.count / 4, "both canonical envelopes and vendor shapes")
        // Redeliveries repeat earlier bytes exactly.
        let earlier = Set(messages.filter { $0.kind != .redelivery }.map(\.message.value))
        #expect(messages.filter { $0.kind == .redelivery }.allSatisfy { earlier.contains($0.message.value) })
    }

    /// The normalize stage with the shipped tables.
    static func stage() throws -> NormalizeStage {
        let tables = try MappingTables.load(path: repositoryRoot.appendingPathComponent("config/picklists.yml").path)
        let blocklist = try IdentifierBlocklist.load(path: repositoryRoot.appendingPathComponent("config/blocked-identifiers.yml").path)
        return try NormalizeStage(defaultPhoneRegion: "US", mappingTables: tables, blocklist: blocklist)
    }

    /// Names repeat every 2,000 people; namesakes must not share a company domain after
    /// normalization, or every create would be an identity conflict with all its namesakes.
    @Test func namesakesWorkAtDifferentCompanies() throws {
        let stage = try Self.stage()
        func domain(_ person: Int) throws -> FieldValue? {
            let message = Workload.seedMessage(person: person, topic: Self.topics.crm)
            let events = try stage.normalize(RawEvent(topic: message.topic, value: message.value ?? [], source: .crm)).get()
            return events.first?.event.fields["company_domain"]
        }
        #expect(try domain(3) != nil)
        #expect(try domain(3) != domain(2_003))
        #expect(try domain(3) == domain(4), "colleagues share their company's domain")
    }

    @Test func everyMessageNormalizesAsExpected() throws {
        let stage = try Self.stage()
        let sources: [String: Source] = [Self.topics.crm: .crm, Self.topics.map: .map, Self.topics.billing: .billing, Self.topics.product: .product]
        let seeds = (0..<50).map { WorkloadMessage(message: Workload.seedMessage(person: $0, topic: Self.topics.crm), kind: .create, eventIDs: []) }
        for generated in Self.generate(3_000, existing: 50) + seeds {
            let message = generated.message
            let raw = RawEvent(topic: message.topic, key: message.key, value: message.value ?? [],
                               headers: message.headers.map { ($0.name, $0.value ?? []) }, source: sources[message.topic] ?? .crm)
            switch (stage.normalize(raw), generated.kind) {
            case (.failure, .poison):
                continue
            case (.success, .poison):
                Issue.record("poison normalized: \(String(decoding: message.value ?? [], as: UTF8.self))")
            case (.failure(let error), _):
                Issue.record("\(generated.kind) failed: \(error): \(String(decoding: message.value ?? [], as: UTF8.self))")
            case (.success(let events), .redelivery):
                #expect(!events.isEmpty)
            case (.success(let events), _):
                if !generated.eventIDs.isEmpty {
                    #expect(events.map(\.event.eventID) == generated.eventIDs, "\(String(decoding: message.value ?? [], as: UTF8.self))")
                }
            }
        }
    }
}
