/// The model's JSON documents written with ``JSONWriter``: the same bytes as their `Codable`
/// encoding under `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`), which
/// `Tests/AuditTests/JSONWriterTests` checks on generated values. Member names are listed in
/// sorted order here.
extension JSONWriter {
    public mutating func value(_ value: FieldValue) {
        switch value {
        case .string(let text): string(text)
        case .number(let number): decimal(number)
        case .bool(let flag): bool(flag)
        case .timestamp(let instant): timestamp(instant)
        case .set(let values): array(values) { $0.string($1) }
        case .consent(let records): array(records) { $0.consent($1) }
        case .null: raw("null")
        }
    }

    public mutating func consent(_ record: ConsentRecord) {
        raw(#"{"at":"#)
        timestamp(record.at)
        raw(#","channel":"#)
        string(record.channel)
        raw(#","granted":"#)
        bool(record.granted)
        raw(#","purpose":"#)
        if let purpose = record.purpose { string(purpose) } else { raw("null") }
        raw(#","source":"#)
        string(record.source.rawValue)
        raw(#","system":"#)
        string(record.system)
        raw("}")
    }

    public mutating func provenance(_ provenance: Provenance) {
        raw(#"{"event_id":"#)
        string(provenance.eventID)
        raw(#","occurred_at":"#)
        timestamp(provenance.occurredAt)
        raw(#","rule":"#)
        string(provenance.rule)
        raw(#","source":"#)
        string(provenance.source.rawValue)
        raw(#","system":"#)
        string(provenance.system)
        raw("}")
    }

    /// `{"after", "before", "field", "rule"}`, a missing side as `null`.
    public mutating func change(_ change: FieldChange) {
        raw(#"{"after":"#)
        value(change.after ?? .null)
        raw(#","before":"#)
        value(change.before ?? .null)
        raw(#","field":"#)
        string(change.field)
        raw(#","rule":"#)
        string(change.rule)
        raw("}")
    }

    /// Field values by name.
    public mutating func fields(_ fields: [String: FieldValue]) {
        members(fields) { $0.value($1) }
    }

    /// Provenance by field name.
    public mutating func provenance(_ provenance: [String: Provenance]) {
        members(provenance) { $0.provenance($1) }
    }

    public mutating func consent(_ records: [ConsentRecord]) {
        array(records) { $0.consent($1) }
    }

    /// `{system: [ids]}` (external ids).
    public mutating func stringLists(_ lists: [String: [String]]) {
        members(lists) { writer, values in writer.array(values) { $0.string($1) } }
    }
}
