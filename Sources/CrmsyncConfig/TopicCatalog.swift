import ConfigFiles
import Foundation
import Kafka

/// A topic definition from `topics/*.yml`, for one role.
public struct TopicDefinition: Sendable, Hashable {
    public var role: TopicRole
    public var specification: TopicSpecification
    /// The file it came from.
    public var file: String
}

/// Topics as code: reads `topics/*.yml` (one file per topic role).
///
/// ```yaml
/// role: crm                # one of crm, map, billing, product, golden, audit, review, dlq
/// partitions: 6
/// replication_factor: 3
/// config:                  # topic-level configs, as Kafka names them
///   cleanup.policy: delete
///   retention.ms: 604800000
/// ```
/// The topic's name comes from the configuration (`topics:` in `crmsync.yml`), so one set of
/// definitions serves every environment.
public enum TopicCatalog {
    /// Loads every `*.yml` in `directory`; every role must be defined exactly once.
    public static func load(directory: String, configuration: CrmsyncConfiguration) throws(ConfigError) -> [TopicDefinition] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
                .sorted()
        } catch {
            throw ConfigError(origin: directory, "cannot read the topics folder (set topics_dir in crmsync.yml or run from the repository root)")
        }
        var definitions: [TopicRole: TopicDefinition] = [:]
        for name in files {
            let path = (directory as NSString).appendingPathComponent(name)
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigError(origin: path, "cannot read: \(error.localizedDescription)")
            }
            let definition = try parse(text: text, file: path, configuration: configuration)
            if let previous = definitions[definition.role] {
                throw ConfigError(origin: path, key: "role", "role \(definition.role.rawValue) is already defined in \(previous.file)")
            }
            definitions[definition.role] = definition
        }
        let missing = TopicRole.allCases.filter { definitions[$0] == nil }
        guard missing.isEmpty else {
            throw ConfigError(origin: directory, "no topic definition for role(s): \(missing.map(\.rawValue).joined(separator: ", "))")
        }
        return TopicRole.allCases.compactMap { definitions[$0] }
    }

    /// Parses one topic file.
    public static func parse(text: String, file: String, configuration: CrmsyncConfiguration) throws(ConfigError) -> TopicDefinition {
        let root = try YAMLReader(text: text, file: file)
        let keys = try root.mapping(knownKeys: ["role", "partitions", "replication_factor", "config", "description"])
        guard let roleReader = keys["role"] else { throw root.error("missing key `role`") }
        let roleName = try roleReader.nonEmptyString()
        guard let role = TopicRole(rawValue: roleName) else {
            throw roleReader.error("unknown role \"\(roleName)\" (expected one of: \(TopicRole.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let partitionsReader = keys["partitions"] else { throw root.error("missing key `partitions`") }
        let partitions = try partitionsReader.int(in: 1...10_000)
        let replication = try keys["replication_factor"]?.int(in: 1...32) ?? 3
        let configs = try keys["config"]?.stringMap() ?? [:]
        if let policy = configs["cleanup.policy"], !["delete", "compact", "compact,delete", "delete,compact"].contains(policy) {
            throw (keys["config"] ?? root).error("cleanup.policy must be delete, compact or both, found \"\(policy)\"")
        }
        for numeric in ["retention.ms", "retention.bytes", "segment.bytes", "min.insync.replicas", "max.message.bytes"] {
            if let value = configs[numeric], Int64(value) == nil {
                throw (keys["config"] ?? root).error("\(numeric) must be a whole number, found \"\(value)\"")
            }
        }
        let specification = TopicSpecification(
            name: configuration.topic(role),
            partitions: Int32(partitions),
            replicationFactor: Int32(replication),
            configs: configs
        )
        return TopicDefinition(role: role, specification: specification, file: file)
    }
}
