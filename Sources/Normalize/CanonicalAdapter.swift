import CRMModel
import Normalizers

/// Validates crmsync's own envelope against the contract of
/// `topics/schemas/canonical-event.schema.json`, rule for rule, with precise error classes:
/// unknown key / wrong type / bad enum → `schema`; absent or null required key → `missing-field`;
/// an entity (or the entity part of `type`) crmsync does not model → `unknown-entity`.
/// Value checks the schema cannot express (a real email, an existing date) come later, in
/// ``EventBuilder``, as `invalid-value` / `unmapped-value`.
enum CanonicalAdapter {
    /// Longest `system` name; lower-case slug.
    static let maxSystemLength = 64
    /// Longest `actor`.
    static let maxActorLength = 256

    static func drafts(from root: JSONNode, context: AdapterContext) throws(EventError) -> [DraftEvent] {
        [try draft(from: root, context: context)]
    }

    static func draft(from root: JSONNode, context: AdapterContext) throws(EventError) -> DraftEvent {
        let object = try root.object()
        let allowed = Set(CanonicalEvent.EnvelopeKey.allCases.map(\.rawValue))
        for key in object.keys where !allowed.contains(key) {
            throw EventError(.schema, field: JSONNode.join(root.path, key), "unknown envelope property \"\(key.prefix(64))\"")
        }
        for key in CanonicalEvent.requiredEnvelopeKeys {
            _ = try root.required(key.rawValue)
        }

        let eventIDNode = try root.required("event_id")
        let eventID = try nonEmptyString(eventIDNode)

        let sourceNode = try root.required("source")
        guard let source = Source(rawValue: try sourceNode.string()) else {
            throw sourceNode.schemaError("source must be one of \(Source.allCases.map(\.rawValue).joined(separator: ", "))")
        }

        let systemNode = try root.required("system")
        let system = try systemNode.string()
        guard isSystemName(system) else {
            throw systemNode.schemaError("system must be a lower-case name matching ^[a-z][a-z0-9_-]{0,63}$")
        }

        let entityNode = try root.required("entity")
        let entityName = try entityNode.string()
        guard let entity = Entity(rawValue: entityName) else {
            throw EventError(.unknownEntity, field: entityNode.path, "unknown entity \"\(entityName.prefix(64))\"; expected contact, account or deal")
        }

        let typeNode = try root.required("type")
        let typeName = try typeNode.string()
        guard let parts = EventType.parts(of: typeName) else {
            throw typeNode.schemaError("type must be <entity>.<action>")
        }
        guard let typeEntity = Entity(rawValue: parts.entity) else {
            throw EventError(.unknownEntity, field: typeNode.path, "unknown entity \"\(parts.entity.prefix(64))\" in type")
        }
        guard let action = Action(rawValue: parts.action), EventType.isAllowed(typeEntity, action) else {
            throw typeNode.schemaError("unknown action \"\(parts.action.prefix(64))\" for \(typeEntity.rawValue)")
        }
        guard typeEntity == entity else {
            throw typeNode.schemaError("type \(typeName) does not match entity \(entity.rawValue)")
        }

        let occurredNode = try root.required("occurred_at")
        let occurredAt = try strictTimestamp(occurredNode)

        var actor: String?
        if let actorNode = try root.optional("actor") {
            let text = try actorNode.string()
            guard text.unicodeScalars.count <= maxActorLength else {
                throw EventError(.oversized, field: actorNode.path, "actor is longer than \(maxActorLength) characters")
            }
            actor = text.trimmingWhitespace.isEmpty ? nil : text
        }

        let externalIDNode = try root.required("external_id")
        let externalID = try nonEmptyString(externalIDNode)

        let fieldsNode = try root.required("fields")
        let fieldsObject = try fieldsNode.object()
        var draft = DraftEvent(
            eventID: eventID, eventIDPath: eventIDNode.path, source: source, system: system,
            entity: entity, action: action, occurredAt: occurredAt, actor: actor,
            externalID: externalID, externalIDPath: externalIDNode.path,
            strictTyping: true, refinesAction: false)

        for (name, value) in fieldsObject.entries {
            let path = JSONNode.join(fieldsNode.path, name)
            switch name {
            case FieldCatalogue.convertedFromKey:
                guard entity == .contact else {
                    throw EventError(.schema, field: path, "converted_from is only allowed on contacts")
                }
                draft.convertedFrom = try nonEmptyString(JSONNode(value, path: path))
            case FieldCatalogue.mergedFromKey:
                let items = try JSONNode(value, path: path).array()
                guard !items.isEmpty else {
                    throw EventError(.schema, field: path, "merged_from must name at least one external id")
                }
                for item in items {
                    draft.mergedFrom.append(try nonEmptyString(item))
                }
            default:
                guard FieldCatalogue.kind(of: name, on: entity) != nil else {
                    throw EventError(.schema, field: path, "\(entity.rawValue) has no field \"\(name.prefix(64))\"")
                }
                draft.fields.append(DraftField(name: name, value: .json(value), path: path))
            }
        }
        if action == .converted, draft.convertedFrom == nil {
            throw EventError(.missingField, field: JSONNode.join(fieldsNode.path, FieldCatalogue.convertedFromKey),
                "contact.converted requires converted_from (the lead's external id)")
        }
        if action == .merged, draft.mergedFrom.isEmpty {
            throw EventError(.missingField, field: JSONNode.join(fieldsNode.path, FieldCatalogue.mergedFromKey),
                "\(entity.rawValue).merged requires merged_from (at least one external id)")
        }
        return draft
    }

    /// Longest id (`event_id`, `external_id`, `converted_from`, `merged_from` items).
    static let maxIdentifierLength = 256

    /// An id as the schema defines it: 1–256 visible ASCII characters (`^[!-~]{1,256}$`), so
    /// characters and bytes agree and ids are safe in Kafka keys, headers and logs.
    static func nonEmptyString(_ node: JSONNode) throws(EventError) -> String {
        let text = try node.string()
        guard text.utf8.count <= maxIdentifierLength else {
            throw EventError(.oversized, field: node.displayPath, "identifier is longer than \(maxIdentifierLength) characters")
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw node.schemaError("identifier must be 1-\(maxIdentifierLength) visible ASCII characters")
        }
        return text
    }

    /// A timestamp as the schema's pattern allows it (RFC 3339 with `T` and an offset), then parsed:
    /// a wrong shape is `schema`, a well-shaped impossible date (`2026-02-30`) is `invalid-value`.
    static func strictTimestamp(_ node: JSONNode) throws(EventError) -> Timestamp {
        let text = try node.string()
        guard isRFC3339Shape(text) else {
            throw node.schemaError("expected an RFC 3339 date-time like 2026-01-31T09:30:00Z or 2026-01-31T10:30:00.123+01:00")
        }
        return try TimestampNormalizer.parse(text, field: node.displayPath)
    }

    /// `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`
    static func isRFC3339Shape(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Bool {
            for _ in 0..<count {
                guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return false }
                index += 1
            }
            return true
        }
        func literal(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard digits(4), literal(UInt8(ascii: "-")), digits(2), literal(UInt8(ascii: "-")), digits(2),
              literal(UInt8(ascii: "T")), digits(2), literal(UInt8(ascii: ":")), digits(2), literal(UInt8(ascii: ":")), digits(2)
        else { return false }
        if literal(UInt8(ascii: ".")) {
            guard digits(1) else { return false }
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        }
        if literal(UInt8(ascii: "Z")) { return index == bytes.count }
        guard literal(UInt8(ascii: "+")) || literal(UInt8(ascii: "-")) else { return false }
        return digits(2) && literal(UInt8(ascii: ":")) && digits(2) && index == bytes.count
    }

    static func isSystemName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, (1...maxSystemLength).contains(bytes.count),
              first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z")
        else { return false }
        return bytes.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
