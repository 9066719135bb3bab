import CRMModel

/// A parsed JSON document, kept lossless: numbers keep their literal text (so money never
/// passes through a binary float) and objects keep their key order.
///
/// We parse ourselves rather than through `JSONSerialization` because the stage needs what it
/// does not give: booleans that never masquerade as numbers (`NSNumber` bridging), exact number
/// literals, a nesting limit (a 900 KB `[[[[…` must not overflow the stack), and errors with a
/// byte offset that can go into a dead-letter header.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number exactly as written (`-12.50`, `1e3`); grammar-checked per RFC 8259.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The object, if this is one.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// The text, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool { self == .null }
}

/// A JSON object with its keys in document order. Duplicate keys are rejected by the parser:
/// which one wins differs between parsers, so such a document has no single meaning.
public struct JSONObject: Sendable, Hashable {
    public private(set) var keys: [String] = []
    private var storage: [String: JSONValue] = [:]

    /// An empty object.
    public init() {}

    /// An object from key/value pairs, in order (a repeated key keeps its first position, last value).
    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The value at `key`; setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get { storage[key] }
        set {
            if storage[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            storage[key] = newValue
        }
    }

    /// Number of keys.
    public var count: Int { keys.count }

    /// Key/value pairs in document order.
    public var entries: [(key: String, value: JSONValue)] {
        keys.compactMap { key in storage[key].map { (key, $0) } }
    }
}

/// Parses UTF-8 bytes into a ``JSONValue`` (RFC 8259, no extensions).
public struct JSONParser {
    /// Deepest allowed nesting of arrays/objects; real payloads need fewer than 10 levels.
    public static let defaultMaxDepth = 64

    private let bytes: [UInt8]
    private let maxDepth: Int
    private var index = 0

    private init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses a whole document. Errors: `malformed-json` (with the byte offset) for anything
    /// that is not one valid UTF-8 JSON text; `oversized` when nesting exceeds `maxDepth`.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(EventError) -> JSONValue {
        // Validate the encoding once up front, so string slices below are always valid UTF-8.
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw EventError(.malformedJSON, "the message is not valid UTF-8")
        }
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        guard !parser.isAtEnd else {
            throw EventError(.malformedJSON, "the message is empty")
        }
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.isAtEnd else {
            throw parser.malformed("unexpected data after the JSON document")
        }
        return value
    }

    private var isAtEnd: Bool { index >= bytes.count }

    private func malformed(_ what: String) -> EventError {
        EventError(.malformedJSON, "\(what) at byte \(index)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(EventError) -> JSONValue {
        guard index < bytes.count else { throw malformed("unexpected end of input (truncated?)") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw malformed("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(EventError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw malformed("unexpected end of input (truncated?)") }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw malformed("invalid literal")
        }
        index += count
    }

    private mutating func checkDepth(_ depth: Int) throws(EventError) {
        guard depth <= maxDepth else {
            throw EventError(.oversized, "JSON nesting deeper than \(maxDepth) levels at byte \(index)")
        }
    }

    private mutating func parseObject(depth: Int) throws(EventError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw malformed("unexpected end of input in an object (truncated?)") }
            guard bytes[index] == UInt8(ascii: "\"") else { throw malformed("expected a string key") }
            let keyStart = index
            let key = try parseString()
            guard object[key] == nil else {
                index = keyStart
                throw malformed("duplicate key \"\(key.prefix(64))\"")
            }
            skipWhitespace()
            guard index < bytes.count else { throw malformed("unexpected end of input in an object (truncated?)") }
            guard bytes[index] == UInt8(ascii: ":") else { throw malformed("expected ':' after a key") }
            index += 1
            skipWhitespace()
            object[key] = try parseValue(depth: depth)
            skipWhitespace()
            guard index < bytes.count else { throw malformed("unexpected end of input in an object (truncated?)") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(object)
            default: throw malformed("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(EventError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // [
        var values: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(values)
        }
        while true {
            skipWhitespace()
            values.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw malformed("unexpected end of input in an array (truncated?)") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(values)
            default: throw malformed("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func parseString() throws(EventError) -> String {
        index += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.count else { throw malformed("unterminated string (truncated?)") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                // Valid: the document was validated and escapes produce valid scalars.
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw malformed("unterminated escape (truncated?)") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    index -= 1
                    throw malformed("invalid escape sequence")
                }
            case 0x00..<0x20:
                throw malformed("unescaped control character in a string")
            default:
                utf8.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseHex4() throws(EventError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw malformed("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw malformed("invalid hex digit in \\u escape")
            }
            value = value * 16 + UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseUnicodeEscape() throws(EventError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xD800...0xDBFF).contains(first) {
            // A high surrogate must be followed by an escaped low surrogate.
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw malformed("unpaired UTF-16 surrogate in \\u escape")
            }
            index += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second),
                  let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            else { throw malformed("unpaired UTF-16 surrogate in \\u escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else {
            throw malformed("unpaired UTF-16 surrogate in \\u escape")
        }
        return scalar
    }

    private mutating func parseNumber() throws(EventError) -> String {
        let start = index
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("invalid number: digits expected after '.'") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("invalid number: digits expected in exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }
}
