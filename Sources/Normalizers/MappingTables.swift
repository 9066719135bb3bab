import ConfigFiles
import CRMModel
import Foundation
import Yams

/// A problem in a mapping-table file: names the file, the key path and, when known, the line.
public struct MappingTableError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// Dotted path of the offending key (`picklists.lifecycle_stage.map.hubspot.lead`).
    public let keyPath: String
    /// 1-based line in the file, when the YAML parser knows it.
    public let line: Int?
    public let message: String

    public init(file: String, keyPath: String, line: Int?, message: String) {
        self.file = file
        self.keyPath = keyPath
        self.line = line
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}

/// Per-source-system mapping tables for picklists and lifecycle stages, loaded from config/picklists.yml.
///
/// File format (documented at the top of `config/picklists.yml` too):
/// ```yaml
/// version: 1
/// picklists:
///   <canonical field>:
///     values: [slug, ...]          # the closed set of canonical values
///     order: [slug, ...]           # optional: ranks, lowest first (lifecycle stages)
///     same_as: <other field>       # optional: share another field's values and maps
///     map:
///       <system>:                  # hubspot, salesforce, stripe, segment, ... or "*" for any
///         <vendor value>: <slug>
/// ```
/// Lookup for (field, system, value): the system's map, then `"*"`, then the canonical values
/// themselves. Keys compare case-, whitespace- and underscore-insensitively
/// (`Marketing Qualified Lead` = `marketingqualifiedlead` = `MARKETING_QUALIFIED_LEAD`).
/// Anything else is `EventError(.unmappedValue)`: never a guess.
public struct MappingTables: Sendable {
    struct Table: Sendable {
        var values: [String]
        var order: [String]
        /// system → match key → canonical value.
        var maps: [String: [String: String]]
        /// match key of each canonical value → the value.
        var canonicalByKey: [String: String]
    }

    private var tables: [String: Table]
    /// The file the tables came from (for messages).
    public let file: String

    /// Parses the YAML text of a mapping file; `file` is used in error messages only.
    public init(yaml: String, file: String) throws(MappingTableError) {
        self.file = file
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            let syntax = YAMLReader.describe(error)
            throw MappingTableError(file: file, keyPath: "", line: syntax.line, message: syntax.message)
        }
        guard let root, let top = root.mapping else {
            throw MappingTableError(file: file, keyPath: "", line: root?.mark?.line, message: "expected a mapping at the top level")
        }
        let reader = Reader(file: file)
        var picklistsNode: Node?
        for (key, value) in top {
            let name = try reader.string(key, path: "")
            switch name {
            case "version":
                guard value.int == 1 else {
                    throw reader.error("version", value, "unsupported version \(value.string ?? "?"); expected 1")
                }
            case "picklists":
                picklistsNode = value
            default:
                throw reader.error(name, key, "unknown key (expected version, picklists)")
            }
        }
        guard let picklistsNode, let picklists = picklistsNode.mapping else {
            throw MappingTableError(file: file, keyPath: "picklists", line: top.mark?.line,
                                    message: "missing or not a mapping")
        }
        var tables: [String: Table] = [:]
        var aliases: [(field: String, target: String, node: Node)] = []
        for (fieldKey, fieldNode) in picklists {
            let field = try reader.string(fieldKey, path: "picklists")
            let path = "picklists.\(field)"
            guard tables[field] == nil, !aliases.contains(where: { $0.field == field }) else {
                throw reader.error(path, fieldKey, "duplicate picklist")
            }
            guard let body = fieldNode.mapping else { throw reader.error(path, fieldNode, "expected a mapping") }
            var table = Table(values: [], order: [], maps: [:], canonicalByKey: [:])
            var sameAs: String?
            var rawMaps: Node?
            for (key, value) in body {
                let name = try reader.string(key, path: path)
                switch name {
                case "values": table.values = try reader.strings(value, path: "\(path).values")
                case "order": table.order = try reader.strings(value, path: "\(path).order")
                case "same_as": sameAs = try reader.string(value, path: "\(path).same_as")
                case "map": rawMaps = value
                default: throw reader.error("\(path).\(name)", key, "unknown key (expected values, order, same_as, map)")
                }
            }
            if let sameAs {
                guard table.values.isEmpty, table.order.isEmpty, rawMaps == nil else {
                    throw reader.error("\(path).same_as", fieldNode, "same_as cannot be combined with values, order or map")
                }
                aliases.append((field, sameAs, fieldNode))
                continue
            }
            guard !table.values.isEmpty else { throw reader.error("\(path).values", fieldNode, "a picklist needs canonical values") }
            for value in table.values {
                let key = Self.matchKey(value)
                if table.canonicalByKey[key] != nil {
                    throw reader.error("\(path).values", fieldNode, "duplicate canonical value \(Text.quote(value))")
                }
                table.canonicalByKey[key] = value
            }
            for value in table.order where !table.values.contains(value) {
                throw reader.error("\(path).order", fieldNode, "\(Text.quote(value)) is not one of the values")
            }
            if let rawMaps {
                guard let systems = rawMaps.mapping else { throw reader.error("\(path).map", rawMaps, "expected a mapping of systems") }
                for (systemKey, entries) in systems {
                    let system = try reader.string(systemKey, path: "\(path).map").lowercased()
                    let systemPath = "\(path).map.\(system)"
                    guard table.maps[system] == nil else { throw reader.error(systemPath, systemKey, "duplicate system") }
                    guard let pairs = entries.mapping else { throw reader.error(systemPath, entries, "expected vendor value: canonical value pairs") }
                    var map: [String: String] = [:]
                    for (vendorNode, targetNode) in pairs {
                        let vendor = try reader.string(vendorNode, path: systemPath)
                        let entryPath = "\(systemPath).\(vendor)"
                        let target = try reader.string(targetNode, path: entryPath)
                        guard table.values.contains(target) else {
                            throw reader.error(entryPath, targetNode, "maps to \(Text.quote(target)), which is not one of the canonical values")
                        }
                        let key = Self.matchKey(vendor)
                        if let existing = map[key], existing != target {
                            throw reader.error(entryPath, vendorNode, "conflicts with another entry for the same value (\(existing) vs \(target))")
                        }
                        map[key] = target
                    }
                    table.maps[system] = map
                }
            }
            tables[field] = table
        }
        for alias in aliases {
            guard let target = tables[alias.target] else {
                throw reader.error("picklists.\(alias.field).same_as", alias.node, "no picklist named \(Text.quote(alias.target))")
            }
            tables[alias.field] = target
        }
        self.tables = tables
    }

    /// Reads and parses a mapping file.
    public static func load(path: String) throws -> MappingTables {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MappingTableError(file: path, keyPath: "", line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try MappingTables(yaml: text, file: path)
    }

    /// fields that are picklists (have a table)
    public func isPicklist(field: String) -> Bool { tables[field] != nil }

    /// The picklist fields, sorted.
    public var fields: [String] { tables.keys.sorted() }

    /// The canonical values of a picklist, in file order; nil if `field` is not a picklist.
    public func canonicalValues(field: String) -> [String]? { tables[field]?.values }

    /// The rank of a canonical value in the field's `order` (0 = lowest); nil when the field has
    /// no order or the value is not ranked (`disqualified` is not a step on the lifecycle ladder).
    public func rank(field: String, value: String) -> Int? {
        tables[field]?.order.firstIndex(of: value)
    }

    /// Map a vendor value for a canonical field from a given system ("hubspot", "salesforce", "stripe", "segment", "*" = any system fallback). Matching is case- and whitespace-insensitive. Unmapped → EventError(.unmappedValue, field:…, message names the value, field and system).
    public func map(field: String, system: String, value: String) throws(EventError) -> String {
        guard let table = tables[field] else {
            throw EventError(.unmappedValue, stage: .normalize, field: field,
                             "field \(field) has no mapping table in \(file)")
        }
        let key = Self.matchKey(value)
        let systemName = system.lowercased()
        if let mapped = table.maps[systemName]?[key] ?? table.maps["*"]?[key] ?? table.canonicalByKey[key] {
            return mapped
        }
        throw EventError(.unmappedValue, stage: .normalize, field: field,
                         "value \(Text.quote(value)) of \(field) from \(system) has no mapping in \(file)")
    }

    /// Maps every value of a multi-select field; the result is sorted and de-duplicated.
    public func map(field: String, system: String, values: [String]) throws(EventError) -> [String] {
        var mapped = Set<String>()
        for value in values { mapped.insert(try map(field: field, system: system, value: value)) }
        return mapped.sorted()
    }

    /// Case-, whitespace- and underscore-insensitive comparison form.
    static func matchKey(_ value: String) -> String {
        String(value.lowercased().filter { !Text.isSpaceLike($0) && $0 != "_" })
    }
}

/// Turns YAML nodes into strings with file/line-aware errors.
private struct Reader {
    let file: String

    func error(_ path: String, _ node: Node, _ message: String) -> MappingTableError {
        MappingTableError(file: file, keyPath: path, line: node.mark?.line, message: message)
    }

    func string(_ node: Node, path: String) throws(MappingTableError) -> String {
        guard let scalar = node.scalar else { throw error(path, node, "expected a plain value") }
        let text = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw error(path, node, "empty value") }
        return text
    }

    func strings(_ node: Node, path: String) throws(MappingTableError) -> [String] {
        guard let sequence = node.sequence else { throw error(path, node, "expected a list") }
        var result: [String] = []
        for item in sequence { result.append(try string(item, path: path)) }
        return result
    }
}
