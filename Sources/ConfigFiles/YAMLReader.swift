import Foundation
import Yams

/// A YAML node with its file and key path, so every error can say exactly where it is.
///
/// Readers consume mappings key by key; ``checkNoUnknownKeys()`` then rejects whatever was not
/// consumed, which is how a typo in a config file fails at start-up instead of being ignored.
public struct YAMLReader {
    public let file: String
    public let path: String
    let node: Node

    /// Parses `text` (one document). An empty document reads as an empty mapping.
    public init(text: String, file: String) throws(ConfigError) {
        self.file = file
        self.path = ""
        do {
            self.node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
        } catch let error as YamlError {
            throw ConfigError(origin: file, line: Self.mark(of: error)?.line, column: Self.mark(of: error)?.column, Self.problem(of: error))
        } catch {
            throw ConfigError(origin: file, "not valid YAML: \(error)")
        }
    }

    init(node: Node, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    /// An error located at this node.
    public func error(_ message: String) -> ConfigError {
        ConfigError(origin: file, line: node.mark?.line, column: node.mark?.column, key: path.isEmpty ? nil : path, message)
    }

    func child(_ key: String, _ node: Node) -> YAMLReader {
        YAMLReader(node: node, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// The entries of a mapping, in file order. Keys must be scalars and unique.
    public func entries() throws(ConfigError) -> [(key: String, value: YAMLReader)] {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping of keys to values, found \(kind)")
        }
        var seen: Set<String> = []
        var result: [(key: String, value: YAMLReader)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw YAMLReader(node: keyNode, file: file, path: path).error("keys must be plain strings")
            }
            let key = scalar.string
            guard seen.insert(key).inserted else {
                throw child(key, keyNode).error("duplicate key")
            }
            result.append((key, child(key, valueNode)))
        }
        return result
    }

    /// Reads a mapping whose keys must come from `known`; anything else is an error naming
    /// the unknown key and the keys that are allowed.
    public func mapping(knownKeys known: [String]) throws(ConfigError) -> [String: YAMLReader] {
        var result: [String: YAMLReader] = [:]
        for (key, value) in try entries() {
            guard known.contains(key) else {
                let suggestion = known.sorted().joined(separator: ", ")
                throw YAMLReader(node: value.node, file: file, path: value.path).error("unknown key (expected one of: \(suggestion))")
            }
            result[key] = value
        }
        return result
    }

    /// A scalar as text. `null`/`~` are rejected unless `allowNull`.
    public func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else {
            throw error("expected a single value, found \(kind)")
        }
        return scalar.string
    }

    public func nonEmptyString() throws(ConfigError) -> String {
        let value = try string().trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else { throw error("must not be empty") }
        return value
    }

    public func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string()
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw error("expected a whole number, found \"\(text)\"")
        }
        guard range.contains(value) else {
            throw error("\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func bool() throws(ConfigError) -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found \"\((try? string()) ?? "")\"")
        }
    }

    /// A flat mapping of scalar values, e.g. librdkafka properties or topic configs.
    public func stringMap() throws(ConfigError) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in try entries() {
            result[key] = try value.string()
        }
        return result
    }

    /// The 1-based line of this node, if known.
    public var line: Int? { node.mark?.line }

    var kind: String {
        switch node {
        case .scalar: return "a single value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// A YAML syntax error as one line and the 1-based line it points at, for loaders that do
    /// not go through ``YAMLReader`` (Yams' own descriptions span several lines).
    public static func describe(_ error: any Error) -> (line: Int?, message: String) {
        guard let error = error as? YamlError else {
            return (nil, "not valid YAML: " + "\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
        }
        return (mark(of: error)?.line, problem(of: error))
    }

    private static func mark(of error: YamlError) -> Mark? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark
        case .duplicatedKeysInMapping(_, let context):
            return context.mark
        default:
            return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return "not valid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate key: \(duplicates.joined(separator: ", "))"
        default:
            // Keep it to one line.
            return "not valid YAML: " + "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
        }
    }
}
