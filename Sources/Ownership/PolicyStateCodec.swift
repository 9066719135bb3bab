import CRMModel
import Foundation

/// The stored form of a ``RecordPolicyState``: a compact, hand-written binary encoding.
///
/// The state is read and written once per applied event; Foundation's JSON coders spent more
/// time on it than the rest of the write path. Blobs start with a marker byte JSON can never
/// start with, so states stored as JSON by earlier versions still decode (and are rewritten in
/// this form by their next change). Every value round-trips exactly (decimals as their text,
/// instants as epoch milliseconds).
public enum PolicyStateCodec {
    /// First byte of a binary blob (a JSON document starts with `{` or whitespace).
    static let marker: UInt8 = 0xC5
    static let version: UInt8 = 1

    /// Encodes `state`; deterministic (fields and slots in sorted order).
    public static func encode(_ state: RecordPolicyState) -> Data {
        var out = Writer()
        out.bytes.append(marker)
        out.bytes.append(version)
        out.count(state.fields.count)
        for (field, history) in state.fields.sorted(by: { $0.key < $1.key }) {
            out.string(field)
            out.count(history.slots.count)
            for (slot, candidate) in history.slots.sorted(by: { $0.key < $1.key }) {
                out.string(slot.text)
                out.candidate(candidate)
            }
        }
        out.count(state.consentLog.count)
        for record in state.consentLog { out.consent(record) }
        out.mark(state.lastDelete)
        out.mark(state.lastRestore)
        return Data(out.bytes)
    }

    /// Decodes a blob written by ``encode(_:)`` or the JSON form of earlier versions.
    public static func decode(_ data: Data) throws -> RecordPolicyState {
        guard data.first == marker else { return try JSONDecoder().decode(RecordPolicyState.self, from: data) }
        return try data.withUnsafeBytes { raw -> RecordPolicyState in
            var input = Reader(bytes: raw, position: 1)
            guard try input.byte() == version else { throw PolicyStateCodecError("unknown policy state version") }
            var state = RecordPolicyState()
            for _ in 0..<(try input.count()) {
                let field = try input.string()
                var history = FieldHistory()
                for _ in 0..<(try input.count()) {
                    let text = try input.string()
                    guard let slot = SlotKey(text: text) else { throw PolicyStateCodecError("bad history slot \(text)") }
                    history.slots[slot] = try input.candidate()
                }
                state.fields[field] = history
            }
            for _ in 0..<(try input.count()) { state.consentLog.append(try input.consent()) }
            state.lastDelete = try input.mark()
            state.lastRestore = try input.mark()
            guard input.position == raw.count else { throw PolicyStateCodecError("trailing bytes") }
            return state
        }
    }
}

/// A policy state blob that cannot be read.
public struct PolicyStateCodecError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = "policy state: \(description)" }
}

private enum ValueTag: UInt8 {
    case null = 0, bool, number, string, timestamp, set, consent
}

private struct Writer {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1_024) }

    mutating func count(_ value: Int) { varint(UInt64(value)) }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func int64(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            count(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func candidate(_ candidate: Candidate) {
        value(candidate.value)
        string(candidate.source.rawValue)
        string(candidate.system)
        string(candidate.eventID)
        int64(candidate.occurredAt.epochMilliseconds)
    }

    mutating func value(_ value: FieldValue) {
        switch value {
        case .null: bytes.append(ValueTag.null.rawValue)
        case .bool(let flag): bytes.append(contentsOf: [ValueTag.bool.rawValue, flag ? 1 : 0])
        case .number(let number):
            bytes.append(ValueTag.number.rawValue)
            string(number.description)
        case .string(let text):
            bytes.append(ValueTag.string.rawValue)
            string(text)
        case .timestamp(let instant):
            bytes.append(ValueTag.timestamp.rawValue)
            int64(instant.epochMilliseconds)
        case .set(let items):
            bytes.append(ValueTag.set.rawValue)
            count(items.count)
            for item in items { string(item) }
        case .consent(let records):
            bytes.append(ValueTag.consent.rawValue)
            count(records.count)
            for record in records { consent(record) }
        }
    }

    mutating func consent(_ record: ConsentRecord) {
        string(record.channel)
        if let purpose = record.purpose {
            bytes.append(1)
            string(purpose)
        } else {
            bytes.append(0)
        }
        bytes.append(record.granted ? 1 : 0)
        int64(record.at.epochMilliseconds)
        string(record.source.rawValue)
        string(record.system)
    }

    mutating func mark(_ mark: LifecycleMark?) {
        guard let mark else { return bytes.append(0) }
        bytes.append(1)
        int64(mark.occurredAt.epochMilliseconds)
        string(mark.eventID)
    }
}

private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    mutating func byte() throws(PolicyStateCodecError) -> UInt8 {
        guard position < bytes.count else { throw PolicyStateCodecError("truncated") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws(PolicyStateCodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw PolicyStateCodecError("bad varint") }
            result |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return result }
            shift += 7
        }
    }

    mutating func count() throws(PolicyStateCodecError) -> Int {
        let value = try varint()
        guard value <= UInt64(bytes.count - position) * 8 + 8 else { throw PolicyStateCodecError("bad count") }
        return Int(value)
    }

    mutating func int64() throws(PolicyStateCodecError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    mutating func string() throws(PolicyStateCodecError) -> String {
        let length = try count()
        guard length <= bytes.count - position else { throw PolicyStateCodecError("truncated text") }
        defer { position += length }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<position + length]), as: UTF8.self)
    }

    mutating func source() throws(PolicyStateCodecError) -> Source {
        let name = try string()
        guard let source = Source(rawValue: name) else { throw PolicyStateCodecError("unknown source \(name)") }
        return source
    }

    mutating func candidate() throws(PolicyStateCodecError) -> Candidate {
        let value = try value()
        return Candidate(value: value, source: try source(), system: try string(), eventID: try string(),
                         occurredAt: Timestamp(epochMilliseconds: try int64()))
    }

    mutating func value() throws(PolicyStateCodecError) -> FieldValue {
        let tagByte = try byte()
        guard let tag = ValueTag(rawValue: tagByte) else { throw PolicyStateCodecError("unknown value tag \(tagByte)") }
        switch tag {
        case .null: return .null
        case .bool: return .bool(try byte() != 0)
        case .number:
            let text = try string()
            guard let number = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
                throw PolicyStateCodecError("not a decimal: \(text)")
            }
            return .number(number)
        case .string: return .string(try string())
        case .timestamp: return .timestamp(Timestamp(epochMilliseconds: try int64()))
        case .set:
            var items: [String] = []
            for _ in 0..<(try count()) { items.append(try string()) }
            return .set(items)
        case .consent:
            var records: [ConsentRecord] = []
            for _ in 0..<(try count()) { records.append(try consent()) }
            return .consent(records)
        }
    }

    mutating func consent() throws(PolicyStateCodecError) -> ConsentRecord {
        let channel = try string()
        let purpose = try byte() != 0 ? try string() : nil
        let granted = try byte() != 0
        let at = Timestamp(epochMilliseconds: try int64())
        return ConsentRecord(channel: channel, purpose: purpose, granted: granted, at: at, source: try source(), system: try string())
    }

    mutating func mark() throws(PolicyStateCodecError) -> LifecycleMark? {
        guard try byte() != 0 else { return nil }
        return LifecycleMark(occurredAt: Timestamp(epochMilliseconds: try int64()), eventID: try string())
    }
}
