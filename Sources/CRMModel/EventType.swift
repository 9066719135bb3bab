/// The kinds of golden record crmsync keeps (docs/contract.md#entities-and-actions).
public enum Entity: String, Sendable, Hashable, CaseIterable, Codable {
    /// A person: Salesforce Lead or Contact, HubSpot contact, Stripe customer, Segment user.
    case contact
    /// A company, matched by its normalized domain.
    case account
    /// An opportunity / deal.
    case deal
}

/// What happened to the entity (the part after the dot of a canonical `type`).
public enum Action: String, Sendable, Hashable, CaseIterable, Codable {
    /// Created or changed; `fields` carries the values the source sent.
    case upserted
    /// Deleted in the source (crmsync soft-deletes).
    case deleted
    /// Undeleted in the source (lifts a soft delete).
    case restored
    /// Other records were merged into this one; `merged_from` names them.
    case merged
    /// A lead became a contact; `converted_from` names the lead's external id.
    case converted
    /// The person opted out of email; `email_opt_out` is true.
    case unsubscribed
    /// Consent was granted or withdrawn; `consent` / `email_opt_out` carry what.
    case consentChanged = "consent_changed"
    /// Product activity (Segment `track`); `usage.*` values are increments, not totals.
    case tracked
}

/// The canonical `type` of an event: `<entity>.<action>`, e.g. `contact.upserted`.
public struct EventType: Sendable, Hashable, Codable, CustomStringConvertible, RawRepresentable {
    public let entity: Entity
    public let action: Action

    public init(_ entity: Entity, _ action: Action) {
        self.entity = entity
        self.action = action
    }

    /// Parses `"<entity>.<action>"`; nil when either part is unknown.
    public init?(rawValue: String) {
        guard let (entity, action) = Self.parts(of: rawValue),
              let knownEntity = Entity(rawValue: entity),
              let knownAction = Action(rawValue: action)
        else { return nil }
        self.init(knownEntity, knownAction)
    }

    /// Splits `"a.b"` at its single dot; nil when there is not exactly one dot.
    public static func parts(of rawValue: String) -> (entity: String, action: String)? {
        let pieces = rawValue.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 2 else { return nil }
        return (String(pieces[0]), String(pieces[1]))
    }

    /// Every valid combination, in catalogue order. `converted` exists for contacts only.
    public static let allCases: [EventType] = Entity.allCases.flatMap { entity in
        Action.allCases.compactMap { action in
            isAllowed(entity, action) ? EventType(entity, action) : nil
        }
    }

    /// Conversion is a lead becoming a contact; the other actions apply to every entity.
    /// Opt-out, consent and product activity are about people, but companies get them too
    /// (Segment `group` calls, account-level consent), so they stay allowed.
    public static func isAllowed(_ entity: Entity, _ action: Action) -> Bool {
        action != .converted || entity == .contact
    }

    public var rawValue: String { "\(entity.rawValue).\(action.rawValue)" }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let type = EventType(rawValue: text), Self.isAllowed(type.entity, type.action) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown event type \(text)")
        }
        self = type
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Which kind of system published the event; decides field ownership (docs/contract.md#shipped-ownership-map).
public enum Source: String, Sendable, Hashable, CaseIterable, Codable {
    case crm
    case map
    case billing
    case product
    case enrichment
}

/// Lifecycle stages in their canonical order (docs/contract.md#fields); `disqualified` is CRM-only and
/// sits outside the order.
public enum LifecycleStage: String, Sendable, Hashable, CaseIterable, Codable {
    case subscriber
    case lead
    case mql
    case sql
    case opportunity
    case customer
    case disqualified

    /// Position in the funnel; nil for `disqualified`, which is not on the ladder.
    public var rank: Int? {
        switch self {
        case .subscriber: 0
        case .lead: 1
        case .mql: 2
        case .sql: 3
        case .opportunity: 4
        case .customer: 5
        case .disqualified: nil
        }
    }
}
