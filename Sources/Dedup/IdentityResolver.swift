import CRMModel
import Normalizers

/// How a record was found (docs/contract.md#identity tiers; accounts use the company domain at tier 2).
public enum MatchTier: Int, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    case crosswalk = 1
    case email = 2
    case companyDomain = 20
    case phone = 3
    case nameCompany = 4

    /// Strength order: a lower rank is stronger evidence.
    var rank: Int { self == .companyDomain ? 2 : rawValue }
    public static func < (lhs: MatchTier, rhs: MatchTier) -> Bool { lhs.rank < rhs.rank }

    public var description: String {
        switch self {
        case .crosswalk: "crosswalk"
        case .email: "email"
        case .companyDomain: "company_domain"
        case .phone: "phone"
        case .nameCompany: "name_company"
        }
    }
}

/// Why two records became one.
public enum MergeReason: String, Sendable, Hashable, Codable {
    /// A source said so (`*.merged` with `merged_from`).
    case explicitMerge = "explicit_merge"
    /// A lead's conversion named a record that already had its own golden record.
    case conversion
    /// One event's identifiers pointed at several records (tiers 1–3).
    case sharedIdentifier = "shared_identifier"
}

/// Why an event is held for a person to decide.
public enum IdentityReviewReason: String, Sendable, Hashable, Codable {
    /// Only tier 4 (name + company, exact or fuzzy) matched: never an automatic merge.
    case nameCompanyOnly = "name_company_only"
    /// A tier 2/3 match whose stronger keys (external id, email) or names differ from the event's.
    case conflict
    /// Equally strong evidence points at several records that must stay apart.
    case ambiguous
}

/// A record proposed to a reviewer, with how likely it is the event's person.
public struct ScoredCandidate: Sendable, Hashable, Codable {
    public var goldenID: GoldenID
    /// 0…1, higher is more likely the same person.
    public var score: Double
    /// The tier that found it.
    public var tier: MatchTier
    /// Human-readable evidence, e.g. "nickname bob~robert", "same company domain acme.com".
    public var reasons: [String]

    public init(goldenID: GoldenID, score: Double, tier: MatchTier, reasons: [String]) {
        self.goldenID = goldenID
        self.score = score
        self.tier = tier
        self.reasons = reasons
    }

    enum CodingKeys: String, CodingKey {
        case goldenID = "golden_id"
        case score, tier, reasons
    }
}

/// An event held for review: the whole event waits (outcome `review`, docs/contract.md#accounting-identity).
public struct IdentityReview: Sendable, Hashable {
    public var reason: IdentityReviewReason
    /// Best first (score descending, then golden id).
    public var candidates: [ScoredCandidate]
    /// The id to create if a reviewer decides the event is a new person.
    public var proposedID: GoldenID
}

/// Two records that share an identifier but must stay apart; the event was still applied.
public struct IdentityConflict: Sendable, Hashable {
    /// The record the event did not join.
    public var goldenID: GoldenID
    /// The shared identifier that pointed at it.
    public var key: IdentityKey
    /// What differs: `external_id:<system>`, `email`, or `name`.
    public var differingKey: String
    /// The fuzzy score (0…1) of the record as the person the event describes
    /// (``CandidateScorer/score(event:candidate:)``), and its reasons.
    public var score: Double
    public var reasons: [String]

    public init(goldenID: GoldenID, key: IdentityKey, differingKey: String, score: Double = 0, reasons: [String] = []) {
        self.goldenID = goldenID
        self.key = key
        self.differingKey = differingKey
        self.score = score
        self.reasons = reasons
    }
}

/// What dedup decided for one event.
public enum IdentityDecision: Sendable, Hashable {
    /// Apply to this record.
    case existing(GoldenID, tier: MatchTier)
    /// No match: create a record with this (deterministic) id.
    case create(GoldenID)
    /// The records are one: merge `absorbed` into `survivor`, then apply the event to `survivor`.
    case merge(survivor: GoldenID, absorbed: [GoldenID], reason: MergeReason)
    /// Hold the event for review; nothing is created or changed.
    case review(IdentityReview)
    /// A delete/restore for a record crmsync never saw: nothing to apply, nothing to create.
    case notFound
}

/// The full outcome of identity resolution for one event.
public struct IdentityResolution: Sendable, Hashable {
    public var decision: IdentityDecision
    /// Crosswalk entries to point at the decision's record: the event's own reference plus any
    /// `converted_from` / `merged_from` references (re-pointed if they pointed elsewhere).
    public var references: [ExternalReference]
    /// Identifiers to index on the decision's record (empty for review and notFound).
    public var keys: [IdentityKey]
    /// Conflicts noticed but not blocking (the event was resolved through stronger evidence).
    public var conflicts: [IdentityConflict]
    /// Keys not used for matching because more than the limit of records carry them.
    public var overSharedKeys: [IdentityKey]

    public init(decision: IdentityDecision, references: [ExternalReference], keys: [IdentityKey],
                conflicts: [IdentityConflict] = [], overSharedKeys: [IdentityKey] = []) {
        self.decision = decision
        self.references = references
        self.keys = keys
        self.conflicts = conflicts
        self.overSharedKeys = overSharedKeys
    }

    /// The record the event applies to, if any (survivor for a merge).
    public var goldenID: GoldenID? {
        switch decision {
        case .existing(let id, _), .create(let id): id
        case .merge(let survivor, _, _): survivor
        case .review, .notFound: nil
        }
    }
}

/// Tunables of identity resolution.
public struct IdentityPolicy: Sendable, Hashable {
    /// An identifier carried by more than this many records stops being a match key (a
    /// switchboard number, `info@`), like Segment's per-identifier limits.
    public var maxRecordsPerIdentifier: Int = 3
    /// Largest fuzzy-review block (`last name + domain`) looked at; larger blocks are skipped.
    public var maxReviewBlockSize: Int = 25
    /// Most candidates attached to one review request.
    public var maxReviewCandidates: Int = 10
    /// Systems where one person legitimately has several ids (e.g. one Stripe customer per
    /// checkout). Elsewhere two different ids of one system are two people (docs/contract.md#identity:
    /// stronger keys both present and different).
    public var systemsWithSeveralIDsPerPerson: Set<String> = []
    /// Names veto a tier-2/3 join when both sides have first and last names that cannot be one
    /// person (two colleagues behind one switchboard, spouses sharing an address).
    public var namesVetoJoins: Bool = true
    /// A conflict (a record the event shares a key with but did not join, because a stronger
    /// key differs) scoring at least this becomes a review request, one per pair of records;
    /// below it, it is only noted on the record and counted (`crmsync stats`). Held events
    /// (ambiguous or name-only matches) are always reviewed: they wait for a decision.
    public var conflictReviewThreshold: Double = 0.8

    public init() {}
}

/// Write-time identity resolution (docs/contract.md#identity): pure and synchronous; all I/O goes through the
/// ``IdentityLookup`` (the store's transaction).
///
/// Tiers: (1) crosswalk, (2) email match key (accounts: company domain), (3) phone, (4) first +
/// last name + company domain. Tiers 1–3 join and merge; tier 4 alone never does: it holds the
/// event for review with scored candidates. A lower tier never joins records whose stronger keys
/// are both present and differ. Deals match on the crosswalk only.
public struct IdentityResolver: Sendable {
    public let policy: IdentityPolicy
    public let scorer: CandidateScorer

    public init(policy: IdentityPolicy = IdentityPolicy(), scorer: CandidateScorer) {
        self.policy = policy
        self.scorer = scorer
    }

    /// A resolver with the bundled nickname table.
    public init(policy: IdentityPolicy = IdentityPolicy()) throws(DedupError) {
        self.init(policy: policy, scorer: CandidateScorer(nicknames: try NicknameTable.bundled()))
    }

    /// The identifiers an event contributes to its record's identity index.
    public func identifiers(of event: NormalizedEvent) -> [IdentityKey] {
        Self.identifiers(of: event, personName: Self.personName(of: event))
    }

    /// ``identifiers(of:)`` with the event's ``personName(of:)`` already folded.
    static func identifiers(of event: NormalizedEvent, personName: PersonName?) -> [IdentityKey] {
        let keys = event.matchKeys
        switch event.event.entity {
        case .contact:
            var result: [IdentityKey] = []
            if let email = keys.email { result.append(.email(email)) }
            if let phone = keys.phone { result.append(.phone(phone)) }
            if let nameCompany = keys.nameCompany {
                result.append(.nameCompany(nameCompany))
                let parts = nameCompany.split(separator: "|", omittingEmptySubsequences: false)
                if parts.count == 3 { result.append(.lastNameCompany("\(parts[1])|\(parts[2])")) }
            }
            if let name = personName { result.append(.personName(name.key)) }
            return result
        case .account:
            return keys.companyDomain.map { [.companyDomain($0)] } ?? []
        case .deal:
            return []
        }
    }

    /// What resolving `normalized` needs that depends on the event alone (no store): computed
    /// where the caller likes (the pipeline: on its normalize lanes), then passed to
    /// ``resolve(_:lookup:)``.
    public func prepare(_ normalized: NormalizedEvent) -> PreparedEvent {
        PreparedEvent(normalized)
    }

    /// Resolves one event against the identity graph. Throws only what `lookup` throws.
    public func resolve(_ normalized: NormalizedEvent, lookup: some IdentityLookup) throws -> IdentityResolution {
        try resolve(prepare(normalized), lookup: lookup)
    }

    /// Resolves one prepared event against the identity graph: only the lookups and the decision
    /// are left to do. Throws only what `lookup` throws.
    public func resolve(_ prepared: PreparedEvent, lookup: some IdentityLookup) throws -> IdentityResolution {
        let normalized = prepared.normalized
        let event = normalized.event
        let entity = event.entity
        let ownReference = prepared.ownReference
        let proposedID = prepared.proposedID
        let own = try lookup.goldenID(for: ownReference, entity: entity)

        // Deletes and restores only ever address a known record: matching them by email could
        // delete someone else's golden record.
        if event.action == .deleted || event.action == .restored {
            var target = own
            if target == nil {
                for reference in normalized.absorbedReferences {
                    if let id = try lookup.goldenID(for: reference, entity: entity) { target = id; break }
                }
            }
            guard let target else {
                return IdentityResolution(decision: .notFound, references: [], keys: [], conflicts: [], overSharedKeys: [])
            }
            return IdentityResolution(decision: .existing(target, tier: .crosswalk), references: [ownReference],
                                      keys: [], conflicts: [], overSharedKeys: [])
        }

        let references = prepared.references
        let keys = prepared.keys

        // Explicit identity statements: a conversion or merge names the records that are one.
        var absorbed: [GoldenID] = []
        for reference in normalized.absorbedReferences {
            if let id = try lookup.goldenID(for: reference, entity: entity), id != own, !absorbed.contains(id) {
                absorbed.append(id)
            }
        }
        if !absorbed.isEmpty {
            let survivor = own ?? absorbed.removeFirst()
            let decision: IdentityDecision = absorbed.isEmpty
                ? .existing(survivor, tier: .crosswalk)
                : .merge(survivor: survivor, absorbed: absorbed,
                         reason: event.action == .converted ? .conversion : .explicitMerge)
            return IdentityResolution(decision: decision, references: references, keys: keys, conflicts: [], overSharedKeys: [])
        }

        let tiers: [(MatchTier, IdentityKey)]
        switch entity {
        case .contact:
            tiers = keys.compactMap { key in
                switch key {
                case .email: (.email, key)
                case .phone: (.phone, key)
                default: nil
                }
            }
        case .account:
            tiers = keys.compactMap { key in
                if case .companyDomain = key { (.companyDomain, key) } else { nil }
            }
        case .deal:
            tiers = []
        }

        var search = Search(resolver: self, prepared: prepared)
        if let own {
            search.joined.append((try lookup.identity(of: own), .crosswalk))
        }
        for (tier, key) in tiers {
            let match = try lookup.records(with: key, entity: entity, limit: policy.maxRecordsPerIdentifier + 1)
            if match.total > policy.maxRecordsPerIdentifier {
                search.overShared.append(key)
                continue
            }
            for id in match.recordIDs where !search.isJoined(id) {
                search.consider(try lookup.identity(of: id), tier: tier, key: key)
            }
        }

        let resolution = { (decision: IdentityDecision, conflicts: [IdentityConflict]) in
            IdentityResolution(decision: decision, references: references, keys: keys,
                               conflicts: conflicts, overSharedKeys: search.overShared)
        }
        guard let (strongest, strongestTier) = search.joined.first else {
            // Nothing joined. A candidate kept apart by a stronger key (another id in the same
            // system, another email) is another person: the event creates its own record and the
            // conflict goes along as advice ("two colleagues ... stay two records"). A candidate
            // kept apart only by its name, or found only by name + company, leaves the identity
            // unresolved: the event is held.
            var unresolved = search.blocked.filter { $0.differingKey == Self.nameVeto }.map { ($0.identity, $0.tier) }
            var advisory = search.blocked.filter { $0.differingKey != Self.nameVeto }
                .map { scoredConflict($0.identity, key: $0.key, differingKey: $0.differingKey, evidence: search.evidence) }
            if entity == .contact {
                for (candidate, key) in try nameCompanyCandidates(keys: keys, entity: entity, evidence: search.evidence, lookup: lookup)
                where !search.isJoined(candidate.id) {
                    if let differing = conflict(candidate, search.eventIdentity, at: .nameCompany) {
                        advisory.append(scoredConflict(candidate, key: key, differingKey: differing, evidence: search.evidence))
                    } else {
                        unresolved.append((candidate, .nameCompany))
                    }
                }
            }
            if !unresolved.isEmpty {
                let reason: IdentityReviewReason = unresolved.contains { $0.1 != .nameCompany } ? .conflict : .nameCompanyOnly
                return held(reason, rank(unresolved, evidence: search.evidence), proposedID, references, search.overShared)
            }
            return resolution(.create(proposedID), advisory)
        }
        // A conflict found by evidence as strong as the best match: the event cannot choose.
        let ambiguous = search.blocked.filter { $0.tier.rank <= strongestTier.rank }
        if !ambiguous.isEmpty {
            let pairs = search.joined.map { ($0.0, $0.1) } + ambiguous.map { ($0.identity, $0.tier) }
            return held(.ambiguous, rank(pairs, evidence: search.evidence), proposedID, references, search.overShared)
        }
        let conflicts = search.blocked.map { scoredConflict($0.identity, key: $0.key, differingKey: $0.differingKey, evidence: search.evidence) }
        if search.joined.count == 1 {
            return resolution(.existing(strongest.id, tier: strongestTier), conflicts)
        }
        return resolution(.merge(survivor: strongest.id, absorbed: search.joined.dropFirst().map(\.0.id),
                                 reason: .sharedIdentifier), conflicts)
    }

    // MARK: Internals

    private func scoredConflict(_ identity: RecordIdentity, key: IdentityKey, differingKey: String, evidence: CandidateEvidence) -> IdentityConflict {
        let (score, reasons) = scorer.score(event: evidence, candidate: identity)
        return IdentityConflict(goldenID: identity.id, key: key, differingKey: differingKey, score: score,
                                reasons: reasons + ["shares \(key.kind.rawValue); \(differingKey) differs"])
    }

    private func held(_ reason: IdentityReviewReason, _ candidates: [ScoredCandidate], _ proposedID: GoldenID,
                      _ references: [ExternalReference], _ overShared: [IdentityKey]) -> IdentityResolution {
        IdentityResolution(
            decision: .review(IdentityReview(reason: reason, candidates: Array(candidates.prefix(policy.maxReviewCandidates)),
                                             proposedID: proposedID)),
            references: references, keys: [], conflicts: [], overSharedKeys: overShared)
    }

    /// Tier 4: exact name + company key, then the fuzzy block (same last name and domain) whose
    /// first names are compatible (nicknames, initials, typos). Each with the key that found it.
    private func nameCompanyCandidates(keys: [IdentityKey], entity: Entity, evidence: CandidateEvidence,
                                       lookup: some IdentityLookup) throws -> [(RecordIdentity, IdentityKey)] {
        var found: [(RecordIdentity, IdentityKey)] = []
        var seen = Set<GoldenID>()
        for key in keys {
            switch key {
            case .nameCompany, .lastNameCompany: break
            default: continue
            }
            let match = try lookup.records(with: key, entity: entity, limit: policy.maxReviewBlockSize + 1)
            guard match.total <= policy.maxReviewBlockSize else { continue }
            for id in match.recordIDs where !seen.contains(id) {
                let identity = try lookup.identity(of: id)
                if case .lastNameCompany = key {
                    guard let mine = evidence.name,
                          identity.names.contains(where: { scorer.areCompatibleFirstNames(mine.first, $0.first) })
                    else { continue }
                }
                seen.insert(id)
                found.append((identity, key))
            }
        }
        return found
    }

    private func rank(_ candidates: [(RecordIdentity, MatchTier)], evidence: CandidateEvidence) -> [ScoredCandidate] {
        var seen = Set<GoldenID>()
        var result: [ScoredCandidate] = []
        for (identity, tier) in candidates where seen.insert(identity.id).inserted {
            let (score, reasons) = scorer.score(event: evidence, candidate: identity)
            result.append(ScoredCandidate(goldenID: identity.id, score: score, tier: tier, reasons: reasons))
        }
        return result.sorted { $0.score != $1.score ? $0.score > $1.score : $0.goldenID < $1.goldenID }
    }

    /// The event's folded person name, from its fields.
    static func personName(of event: NormalizedEvent) -> PersonName? {
        guard let first = NameNormalizer.foldedNamePart(event.event.fields["first_name"]?.stringValue),
              let last = NameNormalizer.foldedNamePart(event.event.fields["last_name"]?.stringValue)
        else { return nil }
        return PersonName(first: first, last: last)
    }

    /// The running state of one resolution: records joined so far and candidates kept apart.
    private struct Search {
        let resolver: IdentityResolver
        let evidence: CandidateEvidence
        /// The event seen as a record, so its own keys take part in conflict checks.
        fileprivate let eventIdentity: RecordIdentity
        var joined: [(RecordIdentity, MatchTier)] = []
        var blocked: [(identity: RecordIdentity, tier: MatchTier, key: IdentityKey, differingKey: String)] = []
        var overShared: [IdentityKey] = []

        init(resolver: IdentityResolver, prepared: PreparedEvent) {
            self.resolver = resolver
            eventIdentity = prepared.eventIdentity
            evidence = prepared.evidence
        }

        func isJoined(_ id: GoldenID) -> Bool {
            joined.contains { $0.0.id == id } || blocked.contains { $0.identity.id == id }
        }

        mutating func consider(_ candidate: RecordIdentity, tier: MatchTier, key: IdentityKey) {
            for other in [eventIdentity] + joined.map(\.0) {
                if let differing = resolver.conflict(candidate, other, at: tier) {
                    blocked.append((candidate, tier, key, differing))
                    return
                }
            }
            joined.append((candidate, tier))
        }
    }

    /// ``IdentityConflict/differingKey`` when only the names keep two records apart.
    static let nameVeto = "name"

    /// The stronger key that keeps `lhs` and `rhs` apart when matched at `tier`, if any.
    func conflict(_ lhs: RecordIdentity, _ rhs: RecordIdentity, at tier: MatchTier) -> String? {
        // Tier 1 is stronger than every key tier: one system, two different ids, two people.
        for (system, ids) in lhs.externalIDs where !policy.systemsWithSeveralIDsPerPerson.contains(system) {
            if let others = rhs.externalIDs[system], !ids.isEmpty, !others.isEmpty, ids.isDisjoint(with: others) {
                return "external_id:\(system)"
            }
        }
        if tier == .phone || tier == .nameCompany {
            let mine = lhs.values(of: .email), theirs = rhs.values(of: .email)
            if !mine.isEmpty, !theirs.isEmpty, mine.isDisjoint(with: theirs) { return "email" }
        }
        if policy.namesVetoJoins, tier == .email || tier == .phone {
            let mine = lhs.names, theirs = rhs.names
            if !mine.isEmpty, !theirs.isEmpty,
               !mine.contains(where: { name in theirs.contains { scorer.areCompatible(name, $0) } }) {
                return Self.nameVeto
            }
        }
        return nil
    }
}

/// Deterministic golden ids: the same first event always yields the same id, so a crash and
/// replay, or a second run over the same input, produce identical stores.
public enum GoldenIDs {
    /// `c-`/`a-`/`d-` + 32 hex digits of a 128-bit FNV-1a hash of entity, system and external id.
    public static func make(entity: Entity, reference: ExternalReference) -> GoldenID {
        let prefix: String
        switch entity {
        case .contact: prefix = "c-"
        case .account: prefix = "a-"
        case .deal: prefix = "d-"
        }
        let text = "\(entity.rawValue)\u{1F}\(reference.system)\u{1F}\(reference.id)"
        return prefix + hex(fnv1a(text, basis: 0xcbf2_9ce4_8422_2325)) + hex(fnv1a(text, basis: 0x6c62_272e_07bb_0142))
    }

    private static func fnv1a(_ text: String, basis: UInt64) -> UInt64 {
        var hash = basis
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
