/// Who set a resolved value and which rule let it stand (`provenance` in docs/contract.md#golden-record).
public struct Provenance: Sendable, Hashable, Codable {
    public var source: Source
    public var system: String
    public var eventID: String
    public var occurredAt: Timestamp
    /// The policy that decided (`owner`, `set-once`, …; `fill-if-empty` for a stand-in value).
    public var rule: String

    public init(source: Source, system: String, eventID: String, occurredAt: Timestamp, rule: String) {
        self.source = source
        self.system = system
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.rule = rule
    }

    enum CodingKeys: String, CodingKey {
        case source, system
        case eventID = "event_id"
        case occurredAt = "occurred_at"
        case rule
    }
}
