import ConfigFiles
import Kafka

/// What `crmsync topics apply` finds for one topic: the comparison of the definition with
/// the cluster. Pure data, so the decision is testable without a broker.
public struct TopicCheck: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// Missing: will be (or was) created.
        case missing
        /// Exists and matches the definition.
        case matches
        /// Exists but differs; reported, never changed ("fixing" a production topic is an operator's call).
        case mismatch([String])
    }

    public var definition: TopicDefinition
    public var status: Status
    /// Set when the broker could not report topic configs (the mock cluster has no DescribeConfigs).
    public var configsUnverified: Bool
}

public enum TopicPlanner {
    /// Compares definitions with the cluster's topics and (when available) their configs.
    ///
    /// - Parameters:
    ///   - replicationOverride: expected replication factor when topics are created with a
    ///     different one than defined (e.g. 1 on a single-node cluster).
    public static func check(
        _ definitions: [TopicDefinition],
        existing: [String: TopicDescription],
        configs: [String: [String: String]]?,
        replicationOverride: Int32? = nil
    ) -> [TopicCheck] {
        definitions.map { definition in
            let spec = effectiveSpecification(definition.specification, replicationOverride: replicationOverride)
            guard let actual = existing[spec.name] else {
                return TopicCheck(definition: definition, status: .missing, configsUnverified: configs == nil)
            }
            var differences: [String] = []
            if actual.partitions != spec.partitions {
                differences.append("partitions: defined \(spec.partitions), cluster has \(actual.partitions)")
            }
            if actual.replicationFactor != spec.replicationFactor {
                differences.append("replication factor: defined \(spec.replicationFactor), cluster has \(actual.replicationFactor)")
            }
            if let actualConfigs = configs?[spec.name] {
                for (key, value) in spec.configs.sorted(by: { $0.key < $1.key }) where actualConfigs[key] != value {
                    differences.append("\(key): defined \(value), cluster has \(actualConfigs[key] ?? "(unset)")")
                }
            }
            return TopicCheck(
                definition: definition,
                status: differences.isEmpty ? .matches : .mismatch(differences),
                configsUnverified: configs == nil
            )
        }
    }
}

extension TopicPlanner {
    /// The specification to create or expect: with a replication override, the factor is
    /// replaced and `min.insync.replicas` capped by it (otherwise `acks=all` could never succeed).
    public static func effectiveSpecification(_ spec: TopicSpecification, replicationOverride: Int32?) -> TopicSpecification {
        guard let replication = replicationOverride else { return spec }
        var result = spec
        result.replicationFactor = replication
        if let minISR = spec.configs["min.insync.replicas"].flatMap(Int32.init), minISR > replication {
            result.configs["min.insync.replicas"] = String(replication)
        }
        return result
    }
}

/// How missing topics get created: CreateTopics on a real cluster, the mock API in-process.
public protocol TopicCreator: Sendable {
    func create(_ topics: [TopicSpecification]) async throws -> [String: TopicCreationOutcome]
}

extension KafkaAdmin: TopicCreator {
    public func create(_ topics: [TopicSpecification]) async throws -> [String: TopicCreationOutcome] {
        try await createTopics(topics)
    }
}

extension MockCluster: TopicCreator {
    public func create(_ topics: [TopicSpecification]) async throws -> [String: TopicCreationOutcome] {
        var outcomes: [String: TopicCreationOutcome] = [:]
        for topic in topics {
            do {
                try createTopic(topic)
                outcomes[topic.name] = .created
            } catch {
                outcomes[topic.name] = .failed(error)
            }
        }
        return outcomes
    }
}

/// The result of `topics apply`.
public struct TopicsApplyReport: Sendable {
    public var checks: [TopicCheck]
    /// Outcome per topic that was missing (empty on a dry run).
    public var created: [String: TopicCreationOutcome]
    public var dryRun: Bool

    /// True when every topic exists (or would be created) and matches its definition.
    public var isClean: Bool {
        let mismatched = checks.contains { if case .mismatch = $0.status { return true } else { return false } }
        let failed = created.values.contains { if case .failed = $0 { return true } else { return false } }
        return !mismatched && !failed
    }
}

/// `crmsync topics apply`: create what is missing, verify what exists, never alter a topic.
public struct TopicsApplier: Sendable {
    public let admin: KafkaAdmin
    public let creator: any TopicCreator

    public init(admin: KafkaAdmin, creator: (any TopicCreator)? = nil) {
        self.admin = admin
        self.creator = creator ?? admin
    }

    public func apply(_ definitions: [TopicDefinition], dryRun: Bool, replicationOverride: Int32? = nil) async throws -> TopicsApplyReport {
        let existing = try await admin.describeTopics()
        let present = definitions.map(\.specification.name).filter { existing[$0] != nil }
        var configs: [String: [String: String]]?
        // The mock cluster has no DescribeConfigs (the request would only time out):
        // partitions and replication are still checked there.
        if await !admin.isMockCluster() {
            configs = try await admin.describeTopicConfigs(present)
        }
        let checks = TopicPlanner.check(definitions, existing: existing, configs: configs, replicationOverride: replicationOverride)
        let missing = checks.filter { $0.status == .missing }.map {
            TopicPlanner.effectiveSpecification($0.definition.specification, replicationOverride: replicationOverride)
        }
        var created: [String: TopicCreationOutcome] = [:]
        if !dryRun, !missing.isEmpty {
            if creator is KafkaAdmin, await admin.isMockCluster() {
                throw TopicsApplyError.createTopicsUnsupported(missing.map(\.name))
            }
            created = try await creator.create(missing)
        }
        return TopicsApplyReport(checks: checks, created: created, dryRun: dryRun)
    }
}

/// Why `topics apply` could not do its job at all.
public enum TopicsApplyError: Error, CustomStringConvertible {
    /// The broker is librdkafka's mock cluster, which has no CreateTopics handler.
    case createTopicsUnsupported([String])

    public var description: String {
        switch self {
        case .createTopicsUnsupported(let names):
            return "cannot create \(names.joined(separator: ", ")): the broker is librdkafka's mock cluster, which has no CreateTopics; `crmsync dev-broker` creates the topics of topics/ when it starts"
        }
    }
}
