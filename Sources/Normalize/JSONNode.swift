import CRMModel

/// A JSON value together with its path in the message, so every error names the exact field
/// (`[2].propertyValue`, `data.object.email`, `fields.phone`).
struct JSONNode {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, path: String = "") {
        self.value = value
        self.path = path
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The path shown for the whole message.
    var displayPath: String { path.isEmpty ? "$" : path }

    func schemaError(_ message: String) -> EventError {
        EventError(.schema, field: displayPath, message)
    }

    var isNull: Bool { value.isNull }

    // MARK: Shape

    func object() throws(EventError) -> JSONObject {
        guard case .object(let object) = value else {
            throw schemaError("expected an object, found \(value.typeName)")
        }
        return object
    }

    func array() throws(EventError) -> [JSONNode] {
        guard case .array(let values) = value else {
            throw schemaError("expected an array, found \(value.typeName)")
        }
        return values.enumerated().map { JSONNode($0.element, path: "\(path)[\($0.offset)]") }
    }

    func string() throws(EventError) -> String {
        guard case .string(let text) = value else {
            throw schemaError("expected a string, found \(value.typeName)")
        }
        return text
    }

    func bool() throws(EventError) -> Bool {
        guard case .bool(let flag) = value else {
            throw schemaError("expected a boolean, found \(value.typeName)")
        }
        return flag
    }

    /// A JSON number as a Double (for epoch times; never for money).
    func double() throws(EventError) -> Double {
        guard case .number(let literal) = value else {
            throw schemaError("expected a number, found \(value.typeName)")
        }
        guard let number = Double(literal), number.isFinite else {
            throw EventError(.invalidValue, field: displayPath, "number \(literal.prefix(40)) is out of range")
        }
        return number
    }

    /// A string, or a number/boolean rendered as its literal: vendor ids come both ways
    /// (HubSpot `objectId` is a number, Salesforce ids are strings).
    func identifier() throws(EventError) -> String {
        switch value {
        case .string(let text):
            let trimmed = text.trimmingWhitespace
            guard !trimmed.isEmpty else {
                throw EventError(.missingField, field: displayPath, "identifier is empty")
            }
            return trimmed
        case .number(let literal):
            return literal
        default:
            throw schemaError("expected an id (string or number), found \(value.typeName)")
        }
    }

    // MARK: Children

    /// The child at `key`, or nil when absent. (A JSON null is returned as a null node.)
    func child(_ key: String) throws(EventError) -> JSONNode? {
        let object = try object()
        return object[key].map { JSONNode($0, path: Self.join(path, key)) }
    }

    /// The child at `key`; absent or null is `missing-field`.
    func required(_ key: String) throws(EventError) -> JSONNode {
        guard let node = try child(key), !node.isNull else {
            throw EventError(.missingField, field: Self.join(path, key), "required field is missing")
        }
        return node
    }

    /// The child at `key` unless absent or null.
    func optional(_ key: String) throws(EventError) -> JSONNode? {
        guard let node = try child(key), !node.isNull else { return nil }
        return node
    }

    /// The first of `keys` that is present and not null.
    func optional(anyOf keys: [String]) throws(EventError) -> JSONNode? {
        for key in keys {
            if let node = try optional(key) { return node }
        }
        return nil
    }

    /// Follows a dotted path (`address.country`) through nested objects; nil if any step is absent.
    func descend(_ dottedPath: String) throws(EventError) -> JSONNode? {
        var node = self
        for key in dottedPath.split(separator: ".") {
            guard case .object = node.value else { return nil }
            guard let next = try node.child(String(key)) else { return nil }
            node = next
        }
        return node
    }
}

extension String {
    /// Trimmed of Unicode whitespace and newlines at both ends.
    var trimmingWhitespace: String {
        // Both ends ASCII and not White_Space (tab, LF, VT, FF, CR, space): nothing to trim.
        if let first = utf8.first, let last = utf8.last, first < 0x80, last < 0x80,
           first != 0x20, !(0x09...0x0D).contains(first), last != 0x20, !(0x09...0x0D).contains(last) {
            return self
        }
        return trimmingWhitespaceByScalar
    }

    /// ``trimmingWhitespace`` scalar by scalar.
    var trimmingWhitespaceByScalar: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
