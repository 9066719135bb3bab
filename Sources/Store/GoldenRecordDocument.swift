import CRMModel
import Dedup
import Foundation

/// The golden record document (docs/contract.md#golden-record; `golden.records.v1` and `crmsync records get --json`):
/// `{"id", "entity", "version", "fields", "provenance", "external_ids", "consent", "deleted_at",
/// "merged_into", "updated_at"}`. Null members are written as `null`, never omitted.
public struct GoldenRecordDocument: Sendable, Hashable, Encodable {
    public var id: GoldenID
    public var entity: Entity
    public var version: Int64
    public var fields: [String: FieldValue]
    public var provenance: [String: Provenance]
    public var externalIDs: [String: [String]]
    public var consent: [ConsentRecord]
    public var deletedAt: Timestamp?
    public var mergedInto: GoldenID?
    public var updatedAt: Timestamp

    public init(record: GoldenRecord, externalIDs: [String: [String]]) {
        id = record.id
        entity = record.entity
        version = record.version
        fields = record.fields
        provenance = record.provenance
        self.externalIDs = externalIDs
        consent = record.consent
        deletedAt = record.deletedAt
        mergedInto = record.mergedInto
        updatedAt = record.updatedAt
    }

    /// The document of a stored record, external ids read from the crosswalk.
    public static func load(_ id: GoldenID, from reader: any StoreReader) throws -> GoldenRecordDocument? {
        guard let record = try reader.record(id) else { return nil }
        return GoldenRecordDocument(record: record, externalIDs: try reader.externalIDs(of: id))
    }

    enum CodingKeys: String, CodingKey {
        case id, entity, version, fields, provenance
        case externalIDs = "external_ids"
        case consent
        case deletedAt = "deleted_at"
        case mergedInto = "merged_into"
        case updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(entity, forKey: .entity)
        try container.encode(version, forKey: .version)
        try container.encode(fields, forKey: .fields)
        try container.encode(provenance, forKey: .provenance)
        try container.encode(externalIDs, forKey: .externalIDs)
        try container.encode(consent, forKey: .consent)
        try container.encode(deletedAt, forKey: .deletedAt)
        try container.encode(mergedInto, forKey: .mergedInto)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

extension GoldenRecordDocument {
    /// The document's JSON (`golden.records.v1`): byte for byte its `Encodable` form under
    /// `JSONEncoder` with sorted keys, written without Foundation's encoder (see ``JSONWriter``).
    public func jsonBytes() -> [UInt8] {
        var out = JSONWriter(capacity: 1024 + fields.count * 160)
        out.raw(#"{"consent":"#)
        out.consent(consent)
        out.raw(#","deleted_at":"#)
        if let deletedAt { out.timestamp(deletedAt) } else { out.raw("null") }
        out.raw(#","entity":"#)
        out.string(entity.rawValue)
        out.raw(#","external_ids":"#)
        out.stringLists(externalIDs)
        out.raw(#","fields":"#)
        out.fields(fields)
        out.raw(#","id":"#)
        out.string(id)
        out.raw(#","merged_into":"#)
        if let mergedInto { out.string(mergedInto) } else { out.raw("null") }
        out.raw(#","provenance":"#)
        out.provenance(provenance)
        out.raw(#","updated_at":"#)
        out.timestamp(updatedAt)
        out.raw(#","version":"#)
        out.int(version)
        out.raw("}")
        return out.bytes
    }
}
