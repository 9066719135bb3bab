/// How a canonical field's value is typed and normalized.
public enum FieldKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Free text, trimmed. JSON string.
    case text
    /// An email address: trimmed, lower-cased, validated; yields the email match key.
    case email
    /// A phone number, stored as E.164; yields the phone match key.
    case phone
    /// A person or company name: trimmed, inner whitespace collapsed, casing kept.
    case name
    /// A registrable company domain (`acme.co.uk`), lower-case.
    case domain
    /// A URL as typed (trimmed); the company domain is derived from it.
    case url
    /// A number (counts, scores). JSON number; kept as a `Decimal`.
    case number
    /// An amount of money, kept exactly as a `Decimal` (never a binary float).
    case money
    /// An ISO 4217 currency code; mapped through the picklist tables when they list currencies
    /// (lower-case slugs), else validated as three letters and lower-cased.
    case currency
    /// true / false.
    case boolean
    /// An instant, normalized to UTC; RFC 3339 on the wire.
    case timestamp
    /// One value from a closed list, mapped per source system through `config/picklists.yml`.
    case picklist
    /// A set of picklist values (`a;b;c` in vendor payloads, a JSON array canonically).
    case multiSelect = "multi-select"
    /// A list of consent records (when, where, what).
    case consent
}

/// One canonical field: its name and how its value is typed.
public struct FieldDefinition: Sendable, Hashable {
    public let name: String
    public let kind: FieldKind
    public init(_ name: String, _ kind: FieldKind) {
        self.name = name
        self.kind = kind
    }
}

/// Every canonical field name (docs/contract.md#fields), with its kind and the entities that carry it.
///
/// This table is the single Swift source of truth; `topics/schemas/canonical-event.schema.json`
/// must list the same names and JSON types (a test checks that they agree).
public enum FieldCatalogue {
    /// Prefix of product-usage counters: `usage.<name>`, `<name>` matching ``usageNamePattern``.
    public static let usagePrefix = "usage."
    /// Human-readable form of the usage-name rule (also the JSON Schema pattern suffix).
    public static let usageNamePattern = "[a-z0-9_]{1,64}"
    /// Longest `<name>` of a `usage.<name>` field.
    public static let maxUsageNameLength = 64

    /// Fields of people and companies (contacts and accounts; docs/contract.md#fields).
    public static let partyFields: [FieldDefinition] = [
        .init("email", .email),
        .init("first_name", .name),
        .init("last_name", .name),
        .init("phone", .phone),
        .init("job_title", .text),
        .init("company_name", .name),
        .init("company_domain", .domain),
        .init("website", .url),
        .init("industry", .picklist),
        .init("company_size", .picklist),
        .init("country", .picklist),
        .init("lead_score", .number),
        .init("engagement_score", .number),
        .init("lead_source", .picklist),
        .init("original_source", .picklist),
        .init("lifecycle_stage", .picklist),
        .init("lead_status", .picklist),
        .init("email_opt_out", .boolean),
        .init("consent", .consent),
        .init("plan", .picklist),
        .init("mrr", .money),
        .init("billing_status", .picklist),
        .init("last_invoice_at", .timestamp),
        .init("last_seen_at", .timestamp),
        .init("last_activity_at", .timestamp),
    ]

    /// Account-only fields: the account owner is a critical, review-on-conflict field.
    public static let accountOnlyFields: [FieldDefinition] = [
        .init("owner", .text),
    ]

    /// Fields of deals (docs/contract.md#fields).
    public static let dealFields: [FieldDefinition] = [
        .init("name", .text),
        .init("stage", .picklist),
        .init("amount", .money),
        .init("currency", .currency),
        .init("close_date", .timestamp),
        .init("primary_contact", .text),
        .init("owner", .text),
        .init("account", .text),
        .init("last_activity_at", .timestamp),
    ]

    /// The named fields an entity carries (without the open-ended `usage.*` family).
    public static func fields(of entity: Entity) -> [FieldDefinition] {
        switch entity {
        case .contact: partyFields
        case .account: partyFields + accountOnlyFields
        case .deal: dealFields
        }
    }

    /// Whether the entity carries `usage.<name>` counters (people and companies do; deals don't).
    public static func allowsUsage(_ entity: Entity) -> Bool {
        entity != .deal
    }

    private static let kinds: [Entity: [String: FieldKind]] = Dictionary(
        uniqueKeysWithValues: Entity.allCases.map { entity in
            (entity, Dictionary(fields(of: entity).map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first }))
        })

    /// The kind of `name` on `entity`, or nil when the entity has no such field.
    public static func kind(of name: String, on entity: Entity) -> FieldKind? {
        if let kind = kinds[entity]?[name] { return kind }
        if allowsUsage(entity), isUsageField(name) { return .number }
        return nil
    }

    /// The kind of `name` on any entity (first match), for decoding without an entity at hand.
    public static func kind(of name: String) -> FieldKind? {
        for entity in Entity.allCases {
            if let kind = kind(of: name, on: entity) { return kind }
        }
        return nil
    }

    /// `usage.<name>` with `<name>` of 1–64 characters from `[a-z0-9_]`.
    public static func isUsageField(_ name: String) -> Bool {
        guard name.hasPrefix(usagePrefix) else { return false }
        let suffix = name.utf8.dropFirst(usagePrefix.utf8.count)
        guard (1...maxUsageNameLength).contains(suffix.count) else { return false }
        return suffix.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_")
        }
    }

    /// `usage.<slug>` for a free-form activity name ("Report Exported" → `usage.report_exported`);
    /// nil when nothing usable remains.
    public static func usageField(forActivity activity: String) -> String? {
        var slug = ""
        var pendingSeparator = false
        for scalar in activity.lowercased().unicodeScalars {
            let isWordCharacter = (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9")
            if isWordCharacter {
                if pendingSeparator, !slug.isEmpty { slug.append("_") }
                slug.unicodeScalars.append(scalar)
                pendingSeparator = false
            } else {
                pendingSeparator = true
            }
        }
        guard !slug.isEmpty else { return nil }
        return usagePrefix + String(slug.prefix(maxUsageNameLength))
    }

    // MARK: Identity references (not record fields)

    /// `fields.converted_from`: the lead's external id in a `contact.converted` event.
    public static let convertedFromKey = "converted_from"
    /// `fields.merged_from`: the external ids merged into this record in a `*.merged` event.
    public static let mergedFromKey = "merged_from"
}
