import CRMModel
import Foundation

/// One value some event proposed for one field: the unit of per-field history.
public struct Candidate: Sendable, Hashable {
    public var value: FieldValue
    public var source: Source
    public var system: String
    public var eventID: String
    /// Event time; for a consent record, the record's own `at`.
    public var occurredAt: Timestamp

    public init(value: FieldValue, source: Source, system: String, eventID: String, occurredAt: Timestamp) {
        self.value = value
        self.source = source
        self.system = system
        self.eventID = eventID
        self.occurredAt = occurredAt
    }
}

extension Candidate: Codable {
    enum CodingKeys: String, CodingKey {
        case value, source, system
        case eventID = "event_id"
        case occurredAt = "occurred_at_ms"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        value = try container.decode(LosslessValue.self, forKey: .value).value
        source = try container.decode(Source.self, forKey: .source)
        system = try container.decode(String.self, forKey: .system)
        eventID = try container.decode(String.self, forKey: .eventID)
        occurredAt = Timestamp(epochMilliseconds: try container.decode(Int64.self, forKey: .occurredAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(LosslessValue(value), forKey: .value)
        try container.encode(source, forKey: .source)
        try container.encode(system, forKey: .system)
        try container.encode(eventID, forKey: .eventID)
        // Integer milliseconds: exact for every instant, unlike the 4-digit-year RFC 3339 text.
        try container.encode(occurredAt.epochMilliseconds, forKey: .occurredAt)
    }
}

/// A `FieldValue` coded with its case tag, so the opaque state blob round-trips exactly
/// (plain `FieldValue` JSON cannot tell a timestamp from a string, and a binary-float path
/// could round a `Decimal`).
struct LosslessValue: Codable {
    var value: FieldValue
    init(_ value: FieldValue) { self.value = value }

    enum CodingKeys: String, CodingKey { case type, value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "string": value = .string(try container.decode(String.self, forKey: .value))
        case "number":
            let text = try container.decode(String.self, forKey: .value)
            guard let number = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
                throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "not a decimal: \(text)")
            }
            value = .number(number)
        case "bool": value = .bool(try container.decode(Bool.self, forKey: .value))
        case "timestamp": value = .timestamp(Timestamp(epochMilliseconds: try container.decode(Int64.self, forKey: .value)))
        case "set": value = .set(try container.decode([String].self, forKey: .value))
        case "consent": value = .consent(try container.decode([ConsentRecord].self, forKey: .value))
        case "null": value = .null
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown value type \(other)")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch value {
        case .string(let text):
            try container.encode("string", forKey: .type)
            try container.encode(text, forKey: .value)
        case .number(let number):
            try container.encode("number", forKey: .type)
            try container.encode(number.description, forKey: .value)
        case .bool(let flag):
            try container.encode("bool", forKey: .type)
            try container.encode(flag, forKey: .value)
        case .timestamp(let instant):
            try container.encode("timestamp", forKey: .type)
            try container.encode(instant.epochMilliseconds, forKey: .value)
        case .set(let items):
            try container.encode("set", forKey: .type)
            try container.encode(items, forKey: .value)
        case .consent(let records):
            try container.encode("consent", forKey: .type)
            try container.encode(records, forKey: .value)
        case .null:
            try container.encode("null", forKey: .type)
        }
    }
}

// MARK: Total orders (every tie broken, so a choice never depends on arrival order)

extension FieldValue {
    private var typeRank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .number: 2
        case .string: 3
        case .timestamp: 4
        case .set: 5
        case .consent: 6
        }
    }

    /// A total order over values: by kind, then naturally (false < true, numbers, text by
    /// Unicode scalars, instants, sets and consent lists lexicographically). Used by `max` and as
    /// the last tie-break.
    static func precedes(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return !x && y
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        case (.timestamp(let x), .timestamp(let y)): return x < y
        case (.set(let x), .set(let y)):
            return x.lexicographicallyPrecedes(y) { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        case (.consent(let x), .consent(let y)):
            return x.map(\.orderKey).lexicographicallyPrecedes(y.map(\.orderKey)) {
                $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars)
            }
        default: return a.typeRank < b.typeRank
        }
    }
}

extension ConsentRecord {
    /// What a consent fact is about: one channel and purpose.
    var subject: String { "\(channel)|\(purpose ?? "")" }

    /// A stable text form for ordering and de-duplication.
    var orderKey: String {
        "\(subject)|\(at.epochMilliseconds)|\(granted)|\(source.rawValue)|\(system)"
    }
}

extension Candidate {
    /// Identity tie-break when two candidates share their primary key: event id, value, system.
    static func tieBreakPrecedes(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.eventID != b.eventID { return a.eventID.unicodeScalars.lexicographicallyPrecedes(b.eventID.unicodeScalars) }
        if a.value != b.value { return FieldValue.precedes(a.value, b.value) }
        if a.system != b.system { return a.system.unicodeScalars.lexicographicallyPrecedes(b.system.unicodeScalars) }
        return a.source.rawValue < b.source.rawValue
    }
}

/// The orderings of docs/contract.md#ownership, each total, with source priority as the first tie-break.
struct CandidateOrder: Sendable {
    let priority: @Sendable (Source) -> Int

    /// Whether `a` is a later write than `b` (last-write-wins, owner): occurred_at, then source
    /// priority, then event id (greater wins), then value.
    func isLater(_ a: Candidate, than b: Candidate) -> Bool {
        if a.occurredAt != b.occurredAt { return a.occurredAt > b.occurredAt }
        let (pa, pb) = (priority(a.source), priority(b.source))
        if pa != pb { return pa < pb }
        return Candidate.tieBreakPrecedes(b, a)
    }

    /// Whether `a` is an earlier write than `b` (set-once, fill-if-empty): occurred_at, then
    /// source priority, then event id (smaller wins), then value.
    func isEarlier(_ a: Candidate, than b: Candidate) -> Bool {
        if a.occurredAt != b.occurredAt { return a.occurredAt < b.occurredAt }
        let (pa, pb) = (priority(a.source), priority(b.source))
        if pa != pb { return pa < pb }
        return Candidate.tieBreakPrecedes(a, b)
    }

    /// Whether `a` beats `b` under `max`: the larger value; equal values → the earlier write
    /// (the one that first reached it).
    func isGreater(_ a: Candidate, than b: Candidate) -> Bool {
        if a.value != b.value { return FieldValue.precedes(b.value, a.value) }
        return isEarlier(a, than: b)
    }

    func better(_ a: Candidate, _ b: Candidate, by order: SlotOrder) -> Bool {
        switch order {
        case .latest: isLater(a, than: b)
        case .earliest: isEarlier(a, than: b)
        case .max: isGreater(a, than: b)
        }
    }

    func best<S: Sequence<Candidate>>(_ candidates: S, by order: SlotOrder) -> Candidate? {
        var winner: Candidate?
        for candidate in candidates {
            if let current = winner, !better(candidate, current, by: order) { continue }
            winner = candidate
        }
        return winner
    }

    /// Within one source's slot the priority is equal, so a slot's winner never depends on the
    /// policy: merging two histories needs no configuration.
    static let slotLocal = CandidateOrder(priority: { _ in 0 })
}

/// Which candidate a history slot keeps.
enum SlotOrder: String, Sendable, Hashable, CaseIterable {
    case latest, earliest, max
}
