import CRMModel
import Dedup
import Foundation
import SeededRandom
import Normalizers
import Store

/// The synthetic population is drawn from a seeded ``SplitMix64``, so it is the same on every run.
extension SplitMix64 {
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

/// A temporary store file, removed with its WAL files when the value is dropped.
final class TemporaryStore {
    let directory: URL
    let store: SQLiteStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-dedup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("store.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

/// Builds normalized events the way the normalize stage does (same normalizers, same keys).
struct EventFactory {
    let phones: PhoneNormalizer
    let blocklist = IdentifierBlocklist.default

    init() throws { phones = try PhoneNormalizer(defaultRegion: "US") }

    struct Raw {
        var eventID: String
        var source: Source = .crm
        var system: String = "salesforce"
        var type = EventType(.contact, .upserted)
        var occurredAt = Timestamp(epochMilliseconds: 1_764_000_000_000)
        var externalID: String
        var email: String?
        var phone: String?
        var firstName: String?
        var lastName: String?
        var companyDomain: String?
        var mergedFrom: [String] = []
        var convertedFrom: String?
    }

    func make(_ raw: Raw) throws -> NormalizedEvent {
        var fields: [String: FieldValue] = [:]
        var keys = MatchKeys()
        var domain = raw.companyDomain.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if let email = raw.email {
            let normalized = try EmailNormalizer.normalize(email, field: "fields.email", blocklist: blocklist)
            fields["email"] = .string(normalized.address)
            keys.email = normalized.matchKey
            if domain == nil { domain = DomainNormalizer.companyDomain(fromEmail: normalized.address) }
        }
        if let phone = raw.phone {
            let normalized = try phones.normalize(phone, field: "fields.phone", blocklist: blocklist)
            fields["phone"] = .string(normalized.e164)
            keys.phone = normalized.matchKey
        }
        let first = raw.firstName.flatMap(NameNormalizer.normalize)
        let last = raw.lastName.flatMap(NameNormalizer.normalize)
        if let first { fields["first_name"] = .string(first) }
        if let last { fields["last_name"] = .string(last) }
        if let candidate = domain, !blocklist.isBlocked(value: candidate) {
            fields["company_domain"] = .string(candidate)
        } else {
            domain = nil
        }
        switch raw.type.entity {
        case .contact:
            keys.nameCompany = NameNormalizer.nameCompanyKey(firstName: first, lastName: last, companyDomain: domain)
        case .account:
            keys.companyDomain = domain
        case .deal:
            break
        }
        let event = CanonicalEvent(eventID: raw.eventID, source: raw.source, system: raw.system, type: raw.type,
                                   occurredAt: raw.occurredAt, externalID: raw.externalID, fields: fields,
                                   mergedFrom: raw.mergedFrom, convertedFrom: raw.convertedFrom)
        return NormalizedEvent(event: event, matchKeys: keys)
    }
}

/// What the minimal write stage did with one event.
enum HarnessOutcome: Equatable {
    case applied(GoldenID)
    case duplicate
    case review(String)
    case notFound
}

/// A minimal write stage: remember the event, resolve its identity, apply it, count it; all in
/// one transaction per batch as the real pipeline does. Field values: the event's, last wins
/// (ownership is another stage's job; here only identity matters).
struct Harness {
    let store: SQLiteStore
    let resolver: IdentityResolver

    init(store: SQLiteStore, policy: IdentityPolicy = IdentityPolicy()) throws {
        self.store = store
        resolver = try IdentityResolver(policy: policy)
    }

    @discardableResult
    func process(_ event: NormalizedEvent) throws -> HarnessOutcome {
        try process(batch: [event])[0]
    }

    func process(batch: [NormalizedEvent]) throws -> [HarnessOutcome] {
        try store.write { tx in try batch.map { try apply($0, prepared: nil, in: tx) } }
    }

    /// Like ``process(batch:)`` for events prepared beforehand (as the pipeline's lanes do).
    func process(prepared batch: [PreparedEvent]) throws -> [HarnessOutcome] {
        try store.write { tx in try batch.map { try apply($0.normalized, prepared: $0, in: tx) } }
    }

    private func apply(_ normalized: NormalizedEvent, prepared: PreparedEvent?, in tx: any StoreTransaction) throws -> HarnessOutcome {
        let event = normalized.event
        let now = event.occurredAt
        if try tx.rememberedEvent(system: event.system, eventID: event.eventID) != nil {
            try tx.countOutcome(.duplicate, source: event.source.rawValue, at: now)
            return .duplicate
        }
        let resolution = try prepared.map { try resolver.resolve($0, lookup: tx) } ?? resolver.resolve(normalized, lookup: tx)
        if case .review(let review) = resolution.decision {
            let request = try ReviewRequest.identity(for: normalized, review: review, at: now)
            try tx.openReviewRequest(request)
            try tx.rememberEvent(RememberedEvent(system: event.system, eventID: event.eventID, source: event.source,
                                                 outcome: .review, goldenID: nil, seenAt: now))
            try tx.countOutcome(.review, source: event.source.rawValue, at: now)
            return .review(request.id)
        }
        guard let applied = try tx.applyIdentity(resolution, event: normalized, at: now),
              var record = try tx.record(applied.goldenID)
        else {
            try tx.rememberEvent(RememberedEvent(system: event.system, eventID: event.eventID, source: event.source,
                                                 outcome: .applied, goldenID: nil, seenAt: now))
            try tx.countOutcome(.applied, source: event.source.rawValue, at: now)
            return .notFound
        }
        for (name, value) in event.fields where value != .null {
            record.fields[name] = value
            record.provenance[name] = Provenance(source: event.source, system: event.system, eventID: event.eventID,
                                                      occurredAt: event.occurredAt, rule: "last-write-wins")
        }
        if event.action == .deleted { record.deletedAt = now }
        record.version += 1
        record.updatedAt = now
        try tx.updateRecord(record)
        try tx.rememberEvent(RememberedEvent(system: event.system, eventID: event.eventID, source: event.source,
                                             outcome: .applied, goldenID: applied.goldenID, seenAt: now))
        try tx.countOutcome(.applied, source: event.source.rawValue, at: now)
        return .applied(applied.goldenID)
    }

    /// Applies an event as a new person whatever dedup would say (a reviewer's "not a duplicate").
    func forceCreate(_ normalized: NormalizedEvent) throws -> GoldenID {
        try store.write { tx in
            let id = GoldenIDs.make(entity: normalized.event.entity, reference: normalized.externalReference)
            let resolution = IdentityResolution(decision: .create(id), references: [normalized.externalReference],
                                                keys: resolver.identifiers(of: normalized), conflicts: [], overSharedKeys: [])
            _ = try tx.applyIdentity(resolution, event: normalized, at: normalized.event.occurredAt)
            return id
        }
    }

    /// The golden record an external reference lands on now.
    func goldenID(of reference: ExternalReference, entity: Entity = .contact) throws -> GoldenID? {
        try store.read { try $0.goldenID(for: reference, entity: entity) }
    }
}
