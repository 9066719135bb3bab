import ConfigFiles
import CrmsyncConfig
import Foundation
import Kafka
import Testing

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite("Topics as code")
struct TopicCatalogTests {
    @Test("topics/ defines the eight topics of docs/contract.md#topics with their retention and cleanup policies")
    func shippedDefinitions() throws {
        let definitions = try TopicCatalog.load(directory: "\(repositoryRoot)/topics", configuration: CrmsyncConfiguration())
        let byName = Dictionary(uniqueKeysWithValues: definitions.map { ($0.specification.name, $0.specification) })
        #expect(Set(byName.keys) == ["crm.events.v1", "map.events.v1", "billing.events.v1", "product.events.v1",
                                     "golden.records.v1", "audit.events.v1", "review.requests.v1", "dlq.events.v1"])
        let sevenDays = "604800000", thirtyDays = "2592000000"
        for source in ["crm.events.v1", "map.events.v1", "billing.events.v1", "product.events.v1"] {
            #expect(byName[source]?.configs["cleanup.policy"] == "delete")
            #expect(byName[source]?.configs["retention.ms"] == sevenDays)
        }
        #expect(byName["golden.records.v1"]?.configs["cleanup.policy"] == "compact")
        #expect(byName["audit.events.v1"]?.configs["retention.ms"] == "-1")
        #expect(byName["review.requests.v1"]?.configs["retention.ms"] == thirtyDays)
        #expect(byName["dlq.events.v1"]?.configs["retention.ms"] == thirtyDays)
        #expect(definitions.allSatisfy { $0.specification.partitions >= 1 && $0.specification.replicationFactor == 3 })
    }

    @Test("configured names replace the defaults")
    func configuredNames() throws {
        var configuration = CrmsyncConfiguration()
        configuration.topicNames[.dlq] = "acme.dead.letters"
        let definitions = try TopicCatalog.load(directory: "\(repositoryRoot)/topics", configuration: configuration)
        #expect(definitions.first { $0.role == .dlq }?.specification.name == "acme.dead.letters")
    }

    @Test("a bad topic file is one error naming file, line and key")
    func badFile() {
        let cases: [(String, String)] = [
            ("role: crm\npartitions: 0\n", "partitions"),
            ("role: nope\npartitions: 3\n", "role"),
            ("role: crm\npartitions: 3\nretention: 5\n", "retention"),
            ("role: crm\npartitions: 3\nconfig:\n  cleanup.policy: sometimes\n", "config"),
        ]
        for (text, key) in cases {
            do {
                _ = try TopicCatalog.parse(text: text, file: "topics/x.yml", configuration: CrmsyncConfiguration())
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.origin == "topics/x.yml")
                #expect(error.key == key)
                #expect(error.line != nil)
            }
        }
    }

    @Test("the planner creates what is missing, accepts what matches and reports every difference")
    func planner() throws {
        let definitions = try TopicCatalog.load(directory: "\(repositoryRoot)/topics", configuration: CrmsyncConfiguration())
        var existing: [String: TopicDescription] = [:]
        var configs: [String: [String: String]] = [:]
        for definition in definitions where definition.role != .review {
            let spec = definition.specification
            existing[spec.name] = TopicDescription(name: spec.name, partitions: spec.partitions, replicationFactor: spec.replicationFactor)
            configs[spec.name] = spec.configs.merging(["segment.bytes": "1073741824"]) { a, _ in a }
        }
        existing["dlq.events.v1"]?.partitions = 1
        configs["golden.records.v1"]?["cleanup.policy"] = "delete"

        let checks = TopicPlanner.check(definitions, existing: existing, configs: configs)
        let status = Dictionary(uniqueKeysWithValues: checks.map { ($0.definition.specification.name, $0.status) })
        #expect(status["review.requests.v1"] == .missing)
        #expect(status["crm.events.v1"] == .matches)
        #expect(status["dlq.events.v1"] == .mismatch(["partitions: defined 3, cluster has 1"]))
        #expect(status["golden.records.v1"] == .mismatch(["cleanup.policy: defined compact, cluster has delete"]))

        // Without configs (the mock), only the shape is compared.
        let shapeOnly = TopicPlanner.check(definitions, existing: existing, configs: nil)
        #expect(shapeOnly.first { $0.definition.role == .golden }?.status == .matches)
        #expect(shapeOnly.allSatisfy { $0.configsUnverified })
    }

    @Test("a replication override caps min.insync.replicas so acks=all still works")
    func replicationOverride() {
        let spec = TopicSpecification(name: "t", partitions: 3, replicationFactor: 3, configs: ["min.insync.replicas": "2", "retention.ms": "1"])
        let single = TopicPlanner.effectiveSpecification(spec, replicationOverride: 1)
        #expect(single.replicationFactor == 1)
        #expect(single.configs == ["min.insync.replicas": "1", "retention.ms": "1"])
        #expect(TopicPlanner.effectiveSpecification(spec, replicationOverride: nil) == spec)
    }
}
