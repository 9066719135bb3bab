/// A field whose resolved value changed (`changes[]` of an audit event).
public struct FieldChange: Sendable, Hashable, Codable {
    public var field: String
    /// nil = the field had no value.
    public var before: FieldValue?
    public var after: FieldValue?
    /// The rule that decided the new value.
    public var rule: String

    public init(field: String, before: FieldValue?, after: FieldValue?, rule: String) {
        self.field = field
        self.before = before
        self.after = after
        self.rule = rule
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        // Explicit nulls: the audit contract always has both `before` and `after`.
        try container.encode(before ?? .null, forKey: .before)
        try container.encode(after ?? .null, forKey: .after)
        try container.encode(rule, forKey: .rule)
    }
}
