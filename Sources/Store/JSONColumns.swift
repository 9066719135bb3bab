import CRMModel
import Foundation

/// JSON text columns: deterministic encoding (sorted keys) and typed decoding of field values.
enum JSONColumns {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The record's columns, written by ``JSONWriter`` (the same text as ``encode(_:)``).
    static func fields(_ fields: [String: FieldValue]) -> String {
        var out = JSONWriter(capacity: 64 + fields.count * 48)
        out.fields(fields)
        return out.text
    }

    static func provenance(_ provenance: [String: Provenance]) -> String {
        var out = JSONWriter(capacity: 64 + provenance.count * 128)
        out.provenance(provenance)
        return out.text
    }

    static func consent(_ records: [ConsentRecord]) -> String {
        var out = JSONWriter(capacity: 16 + records.count * 128)
        out.consent(records)
        return out.text
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String, column: String, id: String) throws(StoreError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(.corruptRow, "\(column) of \(id) is not valid JSON for \(type): \(error)")
        }
    }

    /// Field values typed through the ``FieldCatalogue`` (a timestamp stays a timestamp).
    static func decodeFields(_ text: String, entity: Entity, id: String) throws(StoreError) -> [String: FieldValue] {
        let decoder = JSONDecoder()
        decoder.userInfo[TypedFields.entityKey] = entity
        return try decode(TypedFields.self, from: text, column: "fields", id: id, decoder: decoder).values
    }

    private static func decode<T: Decodable>(_ type: T.Type, from text: String, column: String, id: String,
                                             decoder: JSONDecoder) throws(StoreError) -> T {
        do {
            return try decoder.decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(.corruptRow, "\(column) of \(id) is not valid JSON for \(type): \(error)")
        }
    }
}

/// Decodes `{name: value}` with each value typed by its catalogue kind on the entity.
private struct TypedFields: Decodable {
    static let entityKey = CodingUserInfoKey(rawValue: "crmsync.entity")!  // a constant, valid key

    var values: [String: FieldValue] = [:]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let entity = decoder.userInfo[Self.entityKey] as? Entity
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            let nested = try container.superDecoder(forKey: key)
            if let entity, let kind = FieldCatalogue.kind(of: key.stringValue, on: entity) {
                values[key.stringValue] = try FieldValue(from: nested, kind: kind)
            } else {
                values[key.stringValue] = try FieldValue(from: nested)
            }
        }
    }
}

extension JSONColumns {
    /// Outbox headers as JSON text, the same document `encode(_:)` gives (`[{"name":…,"value":
    /// base64}]`, a nil value omitted), written by hand: two rows per applied event made
    /// Foundation's encoder one of the write path's larger costs.
    static func encodeHeaders(_ headers: [OutboxHeader]) -> String {
        var out = JSONWriter(capacity: 64 * headers.count)
        out.array(headers) { out, header in
            out.raw(#"{"name":"#)
            out.string(header.name)
            if let value = header.value {
                out.raw(#","value":"#)
                out.string(value.base64EncodedString())
            }
            out.raw("}")
        }
        return out.text
    }
}

extension JSONColumns {
    /// Outbox headers read back: the shape ``encodeHeaders(_:)`` writes is parsed by hand (the
    /// relay reads every row's headers; Foundation's decoder was most of its time), anything
    /// else (rows from older versions) through `JSONDecoder`.
    static func decodeHeaders(_ text: String, id: String) throws(StoreError) -> [OutboxHeader] {
        var scanner = HeaderScanner(text)
        if let headers = scanner.headers() { return headers }
        return try decode([OutboxHeader].self, from: text, column: "headers", id: id)
    }
}

/// The scanner of ``JSONColumns/decodeHeaders(_:id:)``'s fast path: `[{"name":"…","value":"base64"}, …]`,
/// names with only the escapes ``JSONColumns`` writes. Returns nil on anything else.
private struct HeaderScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    mutating func headers() -> [OutboxHeader]? {
        guard take("[") else { return nil }
        var headers: [OutboxHeader] = []
        if take("]") { return index == bytes.count ? headers : nil }
        repeat {
            guard take(#"{"name":"#), let name = string() else { return nil }
            var value: Data?
            if take(#","value":"#) {
                guard let encoded = string(), let decoded = Data(base64Encoded: encoded) else { return nil }
                value = decoded
            }
            guard take("}") else { return nil }
            headers.append(OutboxHeader(name, bytes: value))
        } while take(",")
        guard take("]"), index == bytes.count else { return nil }
        return headers
    }

    private mutating func take(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        if matches { index += count }
        return matches
    }

    /// A JSON string without escapes other than `\"`, `\\`, `\n`, `\r`, `\t`.
    private mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                default: return nil  // \uXXXX and others: leave it to JSONDecoder
                }
            default:
                out.append(byte)
            }
        }
        return nil
    }
}
