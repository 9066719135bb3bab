import Foundation

/// A typed, normalized field value.
///
/// `.null` is an explicit "the source says this is empty"; a field that is *absent* from
/// ``CanonicalEvent/fields`` says nothing. Ownership decides what a null means (it never erases
/// a value), so the two must stay distinguishable.
public enum FieldValue: Sendable, Hashable {
    /// Text, email, phone (E.164), name, domain, url, picklist or currency values.
    case string(String)
    /// Numbers and money, exact (a `Decimal`, never a binary float).
    case number(Decimal)
    case bool(Bool)
    /// An instant in UTC.
    case timestamp(Timestamp)
    /// A multi-select value: sorted and de-duplicated (set semantics, deterministic order).
    case set([String])
    /// Consent records, in the order given.
    case consent([ConsentRecord])
    /// Explicitly empty.
    case null

    /// A multi-select value from any sequence: sorted and de-duplicated.
    public static func set<S: Sequence<String>>(of values: S) -> FieldValue {
        .set(Array(Set(values)).sorted())
    }

    /// The text of a `.string`, else nil.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number of a `.number`, else nil.
    public var numberValue: Decimal? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The flag of a `.bool`, else nil.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The instant of a `.timestamp`, else nil.
    public var timestampValue: Timestamp? {
        if case .timestamp(let value) = self { return value }
        return nil
    }

    /// Whether this is the explicit `.null`.
    public var isNull: Bool { self == .null }
}

extension FieldValue: Codable {
    /// Encodes as plain JSON: string, number, boolean, RFC 3339 string, array, or null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .timestamp(let value): try container.encode(value)
        case .set(let values): try container.encode(values)
        case .consent(let records): try container.encode(records)
        case .null: try container.encodeNil()
        }
    }

    /// Decodes untyped JSON as best it can (a timestamp comes back as `.string`); decoding a
    /// ``CanonicalEvent`` types each field through the ``FieldCatalogue`` instead.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Decimal.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let values = try? container.decode([String].self) {
            self = .set(of: values)
        } else {
            self = .consent(try container.decode([ConsentRecord].self))
        }
    }

    /// Decodes a value of a known kind, as the canonical envelope writes it.
    public init(from decoder: any Decoder, kind: FieldKind) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
            return
        }
        switch kind {
        case .text, .email, .phone, .name, .domain, .url, .currency, .picklist:
            self = .string(try container.decode(String.self))
        case .number, .money:
            self = .number(try container.decode(Decimal.self))
        case .boolean:
            self = .bool(try container.decode(Bool.self))
        case .timestamp:
            self = .timestamp(try container.decode(Timestamp.self))
        case .multiSelect:
            self = .set(of: try container.decode([String].self))
        case .consent:
            self = .consent(try container.decode([ConsentRecord].self))
        }
    }
}

/// One consent fact that travels with a contact: when, where, and what was granted or withdrawn.
public struct ConsentRecord: Sendable, Hashable, Codable {
    /// The channel: `email`, `sms`, `phone`, `post`, … (lower-case slug).
    public var channel: String
    /// What the consent is for (`marketing`, `newsletter`, …); nil when the source does not say.
    public var purpose: String?
    /// true = consent given, false = withdrawn.
    public var granted: Bool
    /// When (defaults to the event's `occurred_at`).
    public var at: Timestamp
    /// Where: the source kind (defaults to the event's source).
    public var source: Source
    /// Where: the vendor system (defaults to the event's system).
    public var system: String

    public init(channel: String, purpose: String? = nil, granted: Bool, at: Timestamp, source: Source, system: String) {
        self.channel = channel
        self.purpose = purpose
        self.granted = granted
        self.at = at
        self.source = source
        self.system = system
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(channel, forKey: .channel)
        // Explicit null keeps the envelope shape stable for consumers.
        try container.encode(purpose, forKey: .purpose)
        try container.encode(granted, forKey: .granted)
        try container.encode(at, forKey: .at)
        try container.encode(source, forKey: .source)
        try container.encode(system, forKey: .system)
    }
}
