import ArgumentParser
import ConfigFiles
import CrmsyncConfig
import Foundation
import Kafka
import Logging

/// `crmsync demo`: the whole thing on an embedded broker, with sample events.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run an embedded mock broker, create the topics, publish sample events from all four sources and read them back."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await reportingFailures {
            let configuration = try common.load()
            let logger = Logger(label: "crmsync.demo")
            let definitions = try loadTopicDefinitions(configuration)
            let cluster = try MockCluster(brokers: 3, logger: logger)
            print("embedded Kafka (librdkafka mock cluster): \(cluster.bootstrapServers)")
            let kafka = KafkaConfiguration(configuration.kafkaProperties.merging(["bootstrap.servers": cluster.bootstrapServers]) { _, new in new })
            let admin = try KafkaAdmin(configuration: kafka, logger: logger)
            let report = try await TopicsApplier(admin: admin, creator: cluster).apply(definitions, dryRun: false)
            print("topics: \(report.created.count) created from topics/, \(report.checks.count - report.created.count) already there")

            let samples = DemoSamples.events(configuration)
            let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: cluster.bootstrapServers, overrides: configuration.kafka), logger: logger)
            for sample in samples {
                try await producer.send(sample)
            }
            await producer.close()
            print("published \(samples.count) sample events")

            let consumer = try KafkaConsumer(
                configuration: ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: "crmsync-demo", overrides: configuration.kafka),
                logger: logger
            )
            try consumer.subscribe(TopicRole.sources.map(configuration.topic))
            var perTopic: [String: Int] = [:]
            var received = 0
            for try await message in consumer.messages {
                perTopic[message.topic, default: 0] += 1
                try consumer.storeOffset(for: message)
                received += 1
                if received == samples.count { break }
            }
            await consumer.close()
            print("read back:")
            for role in TopicRole.sources {
                let topic = configuration.topic(role)
                print("  \(topic.padding(toLength: 20, withPad: " ", startingAt: 0)) \(perTopic[topic, default: 0]) events")
            }
        }
    }
}

/// Sample events from each source, in each source's native shape.
enum DemoSamples {
    static func events(_ configuration: CrmsyncConfiguration) -> [ProducerMessage] {
        func message(_ role: TopicRole, key: String, format: String, _ json: String) -> ProducerMessage {
            ProducerMessage(topic: configuration.topic(role), key: Array(key.utf8), value: Array(json.utf8),
                            headers: [KafkaHeader(name: "crmsync-format", string: format)])
        }
        return [
            message(.crm, key: "003A000001", format: "canonical", """
            {"event_id":"crm-1","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-11-02T09:15:00Z","actor":"rep@acme.example","entity":"contact","external_id":"003A000001","fields":{"email":"Jane.Doe@Acme.example","first_name":"Jane","last_name":"Doe","job_title":"VP Engineering","phone":"(415) 555-0101"}}
            """),
            message(.map, key: "1001", format: "hubspot-webhook", """
            [{"eventId":9001,"subscriptionId":1,"portalId":62515,"occurredAt":1762074900000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"changeSource":"FORM","propertyName":"email","propertyValue":"jane.doe+webinar@acme.example"}]
            """),
            message(.billing, key: "cus_Q1", format: "stripe", """
            {"id":"evt_1","object":"event","type":"customer.created","created":1762075000,"data":{"object":{"id":"cus_Q1","object":"customer","email":"jane.doe@acme.example","name":"Jane Doe"}}}
            """),
            message(.product, key: "u-42", format: "segment", """
            {"type":"identify","messageId":"seg-1","userId":"u-42","timestamp":"2026-11-02T09:20:00.000Z","traits":{"email":"JANE.DOE@acme.example","plan":"pro"}}
            """),
        ]
    }
}
