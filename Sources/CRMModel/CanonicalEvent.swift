/// One change to one record, in crmsync's canonical vocabulary (docs/contract.md#canonical-envelope).
///
/// Its `Codable` form *is* the canonical envelope platform teams publish
/// (`topics/schemas/canonical-event.schema.json`): `event_id`, `source`, `system`, `type`,
/// `occurred_at`, `actor`, `entity`, `external_id`, `fields`, with the identity references
/// `converted_from` / `merged_from` written inside `fields` as the contract says.
public struct CanonicalEvent: Sendable, Hashable {
    /// Unique and stable per change: a redelivered copy carries the same id (dedup relies on it).
    public var eventID: String
    public var source: Source
    /// The vendor or publishing system: `salesforce`, `hubspot`, `stripe`, `segment`, …
    public var system: String
    public var type: EventType
    /// When the change happened in the source (event time), in UTC.
    public var occurredAt: Timestamp
    /// Who made the change in the source (a user id, integration name), when known.
    public var actor: String?
    /// The record's id in `system` (tier-1 identity through the crosswalk).
    public var externalID: String
    /// Normalized values by canonical field name. Absent = not mentioned; `.null` = emptied.
    public var fields: [String: FieldValue]
    /// For `*.merged`: external ids (same system) that were merged into ``externalID``.
    public var mergedFrom: [String]
    /// For `contact.converted`: the lead's external id (same system) that became ``externalID``.
    public var convertedFrom: String?

    /// The entity part of ``type``.
    public var entity: Entity { type.entity }
    /// The action part of ``type``.
    public var action: Action { type.action }

    public init(
        eventID: String, source: Source, system: String, type: EventType, occurredAt: Timestamp,
        actor: String? = nil, externalID: String, fields: [String: FieldValue] = [:],
        mergedFrom: [String] = [], convertedFrom: String? = nil
    ) {
        self.eventID = eventID
        self.source = source
        self.system = system
        self.type = type
        self.occurredAt = occurredAt
        self.actor = actor
        self.externalID = externalID
        self.fields = fields
        self.mergedFrom = mergedFrom
        self.convertedFrom = convertedFrom
    }

    /// The envelope's top-level keys, in contract order.
    public enum EnvelopeKey: String, CaseIterable, Sendable {
        case eventID = "event_id"
        case source, system, type
        case occurredAt = "occurred_at"
        case actor, entity
        case externalID = "external_id"
        case fields
    }

    /// Keys that must be present (and non-null) in every envelope; `actor` may be absent or null.
    public static let requiredEnvelopeKeys: [EnvelopeKey] = EnvelopeKey.allCases.filter { $0 != .actor }
}

extension CanonicalEvent: Codable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(eventID, forKey: AnyKey(EnvelopeKey.eventID.rawValue))
        try container.encode(source, forKey: AnyKey(EnvelopeKey.source.rawValue))
        try container.encode(system, forKey: AnyKey(EnvelopeKey.system.rawValue))
        try container.encode(type, forKey: AnyKey(EnvelopeKey.type.rawValue))
        try container.encode(occurredAt, forKey: AnyKey(EnvelopeKey.occurredAt.rawValue))
        try container.encode(actor, forKey: AnyKey(EnvelopeKey.actor.rawValue))
        try container.encode(entity, forKey: AnyKey(EnvelopeKey.entity.rawValue))
        try container.encode(externalID, forKey: AnyKey(EnvelopeKey.externalID.rawValue))
        var fieldsContainer = container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(EnvelopeKey.fields.rawValue))
        for (name, value) in fields {
            try fieldsContainer.encode(value, forKey: AnyKey(name))
        }
        if let convertedFrom {
            try fieldsContainer.encode(convertedFrom, forKey: AnyKey(FieldCatalogue.convertedFromKey))
        }
        if !mergedFrom.isEmpty {
            try fieldsContainer.encode(mergedFrom, forKey: AnyKey(FieldCatalogue.mergedFromKey))
        }
    }

    /// Decodes an envelope this type wrote (trusted data, e.g. from the store). Untrusted input
    /// goes through the normalize stage, which validates against the contract with precise errors.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let type = try container.decode(EventType.self, forKey: AnyKey(EnvelopeKey.type.rawValue))
        let fieldsContainer = try container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(EnvelopeKey.fields.rawValue))
        var fields: [String: FieldValue] = [:]
        var mergedFrom: [String] = []
        var convertedFrom: String?
        for key in fieldsContainer.allKeys {
            switch key.stringValue {
            case FieldCatalogue.convertedFromKey:
                convertedFrom = try fieldsContainer.decode(String.self, forKey: key)
            case FieldCatalogue.mergedFromKey:
                mergedFrom = try fieldsContainer.decode([String].self, forKey: key)
            default:
                let nested = try fieldsContainer.superDecoder(forKey: key)
                if let kind = FieldCatalogue.kind(of: key.stringValue, on: type.entity) {
                    fields[key.stringValue] = try FieldValue(from: nested, kind: kind)
                } else {
                    fields[key.stringValue] = try FieldValue(from: nested)
                }
            }
        }
        self.init(
            eventID: try container.decode(String.self, forKey: AnyKey(EnvelopeKey.eventID.rawValue)),
            source: try container.decode(Source.self, forKey: AnyKey(EnvelopeKey.source.rawValue)),
            system: try container.decode(String.self, forKey: AnyKey(EnvelopeKey.system.rawValue)),
            type: type,
            occurredAt: try container.decode(Timestamp.self, forKey: AnyKey(EnvelopeKey.occurredAt.rawValue)),
            actor: try container.decodeIfPresent(String.self, forKey: AnyKey(EnvelopeKey.actor.rawValue)),
            externalID: try container.decode(String.self, forKey: AnyKey(EnvelopeKey.externalID.rawValue)),
            fields: fields,
            mergedFrom: mergedFrom,
            convertedFrom: convertedFrom)
    }
}

/// The identity keys dedup matches on (docs/contract.md#identity, tiers 2–4), computed once by normalize.
/// Each is nil when the value is absent, invalid or blocked (`test@test.com`, `0000000000`, …).
public struct MatchKeys: Sendable, Hashable, Codable {
    /// Tier 2: provider-aware email match key (Gmail dots and `+tag` removed, …).
    public var email: String?
    /// Tier 3: the phone in E.164.
    public var phone: String?
    /// Tier 4 (review only, never auto-merges): first + last name + company domain.
    public var nameCompany: String?
    /// For accounts: the normalized company domain accounts are keyed by.
    public var companyDomain: String?

    public init(email: String? = nil, phone: String? = nil, nameCompany: String? = nil, companyDomain: String? = nil) {
        self.email = email
        self.phone = phone
        self.nameCompany = nameCompany
        self.companyDomain = companyDomain
    }

    /// No usable key at all (the event can only match through its external id).
    public static let none = MatchKeys()

    /// Whether every key is nil.
    public var isEmpty: Bool { self == .none }

    enum CodingKeys: String, CodingKey {
        case email, phone
        case nameCompany = "name_company"
        case companyDomain = "company_domain"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(email, forKey: .email)
        try container.encode(phone, forKey: .phone)
        try container.encode(nameCompany, forKey: .nameCompany)
        try container.encode(companyDomain, forKey: .companyDomain)
    }
}

/// Tier-1 identity: a record's id within one vendor system.
public struct ExternalReference: Sendable, Hashable, Codable, CustomStringConvertible {
    public var system: String
    public var id: String
    public init(system: String, id: String) {
        self.system = system
        self.id = id
    }
    public var description: String { "\(system):\(id)" }
}

/// The output of the normalize stage: a validated canonical event plus its match keys.
/// Dedup and ownership consume this; nothing downstream re-parses vendor payloads.
public struct NormalizedEvent: Sendable, Hashable, Codable {
    public var event: CanonicalEvent
    public var matchKeys: MatchKeys

    public init(event: CanonicalEvent, matchKeys: MatchKeys) {
        self.event = event
        self.matchKeys = matchKeys
    }

    /// The crosswalk key of the record this event is about.
    public var externalReference: ExternalReference {
        ExternalReference(system: event.system, id: event.externalID)
    }

    /// Crosswalk keys of the records merged or converted into this one (same system).
    public var absorbedReferences: [ExternalReference] {
        (event.mergedFrom + (event.convertedFrom.map { [$0] } ?? []))
            .map { ExternalReference(system: event.system, id: $0) }
    }

    enum CodingKeys: String, CodingKey {
        case event
        case matchKeys = "match_keys"
    }
}
