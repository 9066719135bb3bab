import ConfigFiles
import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Testing

@Suite("topics apply against the mock cluster", .timeLimit(.minutes(1)))
struct TopicsApplyTests {
    @Test("first apply creates all eight topics; the second is a no-op; a mismatch is reported, not fixed")
    func applyIsIdempotentAndHonest() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let cluster = try MockCluster(brokers: 3, logger: logger)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": cluster.bootstrapServers]), logger: logger)
        let definitions = try TopicCatalog.load(directory: "\(repositoryRoot)/topics", configuration: CrmsyncConfiguration())
        // The mock has no CreateTopics: in-process we create through the mock API.
        let applier = TopicsApplier(admin: admin, creator: cluster)

        let dryRun = try await applier.apply(definitions, dryRun: true)
        #expect(dryRun.created.isEmpty)
        #expect(try await admin.describeTopics().isEmpty, "a dry run changes nothing")

        let first = try await applier.apply(definitions, dryRun: false)
        #expect(first.created.count == 8)
        #expect(first.created.values.allSatisfy { $0 == .created })
        let topics = try await admin.describeTopics()
        for definition in definitions {
            let spec = definition.specification
            #expect(topics[spec.name] == TopicDescription(name: spec.name, partitions: spec.partitions, replicationFactor: spec.replicationFactor))
        }

        let second = try await applier.apply(definitions, dryRun: false)
        #expect(second.created.isEmpty)
        #expect(second.checks.allSatisfy { $0.status == .matches })
        #expect(second.isClean)

        // A topic that exists with another shape is reported and left alone.
        var altered = CrmsyncConfiguration()
        altered.topicNames[.dlq] = "other.dlq"
        try cluster.createTopic(TopicSpecification(name: "other.dlq", partitions: 1, replicationFactor: 1))
        let alteredDefinitions = try TopicCatalog.load(directory: "\(repositoryRoot)/topics", configuration: altered)
        let third = try await applier.apply(alteredDefinitions, dryRun: false)
        #expect(!third.isClean)
        #expect(third.created.isEmpty)
        guard case .mismatch(let differences)? = third.checks.first(where: { $0.definition.role == .dlq })?.status else {
            Issue.record("other.dlq must be reported as a mismatch")
            return
        }
        #expect(differences.contains("partitions: defined 3, cluster has 1"))
        #expect(try await admin.describeTopics()["other.dlq"]?.partitions == 1, "never silently fixed")
    }

    @Test("against the mock without an in-process handle, creating is refused with a clear reason")
    func mockWithoutHandle() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let cluster = try MockCluster(brokers: 1, logger: logger)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": cluster.bootstrapServers]), logger: logger)
        let definitions = try TopicCatalog.load(directory: "\(repositoryRoot)/topics", configuration: CrmsyncConfiguration())
        await #expect(throws: TopicsApplyError.self) {
            _ = try await TopicsApplier(admin: admin).apply(definitions, dryRun: false)
        }
    }
}
