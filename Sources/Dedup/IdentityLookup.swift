import Normalizers
import CRMModel

/// The id of a golden record (`c-…`, `a-…`, `d-…`); see ``GoldenIDs``.
public typealias GoldenID = String

/// One identifier a record can be found by (docs/contract.md#identity tiers 2–4, plus the review blocking key).
///
/// Values are already normalized match keys: the normalize stage computed them, and blocked
/// values never reach here (they arrive as nil in ``MatchKeys``).
public enum IdentityKey: Sendable, Hashable, CustomStringConvertible {
    /// Tier 2: provider-aware email match key.
    case email(String)
    /// Tier 3: E.164 phone.
    case phone(String)
    /// Tier 4: `"<first>|<last>|<domain>"` (``MatchKeys/nameCompany``). Review only.
    case nameCompany(String)
    /// Blocking key for fuzzy review candidates: `"<last>|<domain>"`. Review only, never a match.
    case lastNameCompany(String)
    /// Accounts: the normalized company domain.
    case companyDomain(String)
    /// A person's folded `"<first>|<last>"`. Never looked up: it only lets names veto a join
    /// and rank review candidates.
    case personName(String)

    /// Stable short name of the kind, as stored in the identity index.
    public var kind: Kind {
        switch self {
        case .email: .email
        case .phone: .phone
        case .nameCompany: .nameCompany
        case .lastNameCompany: .lastNameCompany
        case .companyDomain: .companyDomain
        case .personName: .personName
        }
    }

    /// The normalized value.
    public var value: String {
        switch self {
        case .email(let v), .phone(let v), .nameCompany(let v), .lastNameCompany(let v), .companyDomain(let v), .personName(let v): v
        }
    }

    /// Rebuilds a key from its stored kind and value.
    public init(kind: Kind, value: String) {
        switch kind {
        case .email: self = .email(value)
        case .phone: self = .phone(value)
        case .nameCompany: self = .nameCompany(value)
        case .lastNameCompany: self = .lastNameCompany(value)
        case .companyDomain: self = .companyDomain(value)
        case .personName: self = .personName(value)
        }
    }

    public var description: String { "\(kind.rawValue):\(value)" }

    /// Identifier kinds; raw values are persisted (never rename one).
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case email
        case phone
        case nameCompany = "name_company"
        case lastNameCompany = "last_name_company"
        case companyDomain = "company_domain"
        case personName = "person_name"
    }
}

/// The records carrying one identifier: a bounded sample plus the exact total.
public struct IdentifierMatch: Sendable, Hashable {
    /// Live (not merged-away) records with the identifier, at most the `limit` asked for, in id order.
    public var recordIDs: [GoldenID]
    /// How many live records carry the identifier (from the per-identifier counts).
    public var total: Int

    public init(recordIDs: [GoldenID], total: Int) {
        self.recordIDs = recordIDs
        self.total = total
    }

    /// No record has the identifier.
    public static let none = IdentifierMatch(recordIDs: [], total: 0)
}

/// What dedup needs to know about an existing record to check for conflicts and rank candidates.
public struct RecordIdentity: Sendable, Hashable {
    public var id: GoldenID
    /// Every identifier indexed for the record (all ever seen, not only current field values).
    public var keys: Set<IdentityKey>
    /// The record's ids per vendor system, from the crosswalk.
    public var externalIDs: [String: Set<String>]

    public init(id: GoldenID, keys: Set<IdentityKey>, externalIDs: [String: Set<String>]) {
        self.id = id
        self.keys = keys
        self.externalIDs = externalIDs
    }

    /// The record's values of one identifier kind.
    public func values(of kind: IdentityKey.Kind) -> Set<String> {
        Set(keys.lazy.filter { $0.kind == kind }.map(\.value))
    }
}

/// Read access to the identity graph; the store's transaction implements it, tests can fake it.
///
/// Every method is one index lookup in the store. Merged-away records are never returned: their
/// crosswalk entries and identifiers were moved to the survivor when they were merged.
public protocol IdentityLookup {
    /// Tier 1: the golden record the crosswalk maps `reference` (of `entity`) to, if any.
    func goldenID(for reference: ExternalReference, entity: Entity) throws -> GoldenID?
    /// Records of `entity` carrying `key`, at most `limit` ids plus the exact total.
    func records(with key: IdentityKey, entity: Entity, limit: Int) throws -> IdentifierMatch
    /// Identifiers and external ids of a record, for conflict checks and fuzzy ranking.
    func identity(of id: GoldenID) throws -> RecordIdentity
}

extension IdentityKey {
    /// The tier-2 key of an address as typed (trimmed, lower-cased, provider-aware), e.g. for
    /// `crmsync records get --email`. Blocking is the normalize stage's business, not applied here.
    public static func email(matching address: String) -> IdentityKey {
        .email(EmailNormalizer.matchKey(for: address))
    }
}
