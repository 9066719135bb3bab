import Foundation

/// Writes JSON text byte for byte as Foundation's `JSONEncoder` does with `.sortedKeys` and
/// `.withoutEscapingSlashes` — the encoding of every document crmsync stores, hashes and
/// publishes — without its boxing: on the write path Foundation's encoder cost more than all the
/// SQL (bench/README.md, optimization log).
///
/// The caller writes an object's members in sorted order (``members(_:_:)`` sorts a dictionary;
/// fixed structs list their keys already sorted, checked against `JSONEncoder` by the tests).
/// Keys sort by their UTF-8 bytes, as `JSONEncoder` sorts them.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends literal JSON (punctuation, `null`, a key known to need no escaping).
    public mutating func raw(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends already-encoded JSON bytes.
    public mutating func raw<Bytes: Sequence<UInt8>>(bytes more: Bytes) {
        bytes.append(contentsOf: more)
    }

    /// `"key":` for a key written verbatim (a constant member name: no escaping needed).
    public mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\b \t \n \f \r` or `\u00xx`,
    /// `/` and everything from U+007F on written as UTF-8 (as `JSONEncoder` writes them).
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func int<Integer: BinaryInteger>(_ value: Integer) {
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// A `Decimal` as `JSONEncoder` writes it: its `description`.
    public mutating func decimal(_ value: Decimal) {
        bytes.append(contentsOf: value.description.utf8)
    }

    /// An instant as its RFC 3339 string.
    public mutating func timestamp(_ value: Timestamp) {
        string(value.rfc3339)
    }

    /// `[…]`, each element written by `element`.
    public mutating func array<Elements: Sequence>(_ elements: Elements, _ element: (inout JSONWriter, Elements.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for item in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// `{…}` of a dictionary, keys sorted by their UTF-8 bytes, each value written by `value`.
    public mutating func members<Value>(_ dictionary: [String: Value], _ value: (inout JSONWriter, Value) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (key, item) in dictionary.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            string(key)
            bytes.append(UInt8(ascii: ":"))
            value(&self, item)
        }
        bytes.append(UInt8(ascii: "}"))
    }
}
