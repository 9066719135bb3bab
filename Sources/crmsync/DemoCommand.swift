import ArgumentParser
import CRMModel
import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Normalize

/// `crmsync demo`: the pipeline on an embedded broker, with sample events from all four sources.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run an embedded Kafka, create the topics, publish sample events from all four sources and process them."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await reportingFailures {
            let configuration = try common.load(quietByDefault: true)
            let logger = Logger(label: "crmsync.demo")
            let definitions = try loadTopicDefinitions(configuration)
            let normalize = try Stages.normalize(configuration)
            let sources = Stages.sources(configuration)

            let cluster = try MockCluster(brokers: 3, logger: logger)
            print("embedded Kafka (librdkafka mock cluster, 3 brokers): \(cluster.bootstrapServers)")
            let kafka = KafkaConfiguration(configuration.kafkaProperties.merging(["bootstrap.servers": cluster.bootstrapServers]) { _, new in new })
            let admin = try KafkaAdmin(configuration: kafka, logger: logger)
            let report = try await TopicsApplier(admin: admin, creator: cluster).apply(definitions, dryRun: false)
            print("topics: \(report.created.count) created from topics/")

            let samples = DemoSamples.events(configuration)
            let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: cluster.bootstrapServers, overrides: configuration.kafka), logger: logger)
            for sample in samples {
                try await producer.send(sample.message)
            }
            await producer.close()
            print("published \(samples.count) sample events in their native shapes\n")

            let consumer = try KafkaConsumer(
                configuration: ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: "crmsync-demo", overrides: configuration.kafka),
                logger: logger
            )
            try consumer.subscribe(TopicRole.sources.map(configuration.topic))
            var received: [ConsumerMessage] = []
            while received.count < samples.count {
                let batch = try await consumer.nextBatch(maxMessages: samples.count)
                if batch.isEmpty { break }
                received += batch
            }
            await consumer.close()

            print("normalize stage:")
            var normalized = 0, failed = 0
            for message in received.sorted(by: { ($0.timestampMilliseconds ?? 0, $0.topic) < ($1.timestampMilliseconds ?? 0, $1.topic) }) {
                let label = DemoSamples.label(of: message)
                let raw = RawEvent(topic: message.topic, key: message.key, value: message.value ?? [],
                                   headers: message.headers.map { ($0.name, $0.value ?? []) },
                                   source: sources[message.topic] ?? .crm)
                switch normalize.normalize(raw) {
                case .success(let events):
                    normalized += 1
                    print("  ✓ \(label)")
                    for event in events {
                        let fields = event.event.fields.keys.sorted().map { "\($0)=\(Self.show(event.event.fields[$0]))" }
                        print("      \(event.event.type.rawValue)  \(event.event.system):\(event.event.externalID)  email key: \(event.matchKeys.email ?? "–")")
                        print("      \(fields.joined(separator: ", "))")
                    }
                case .failure(let error):
                    failed += 1
                    print("  ✗ \(label)")
                    print("      would be dead-lettered: \(error.errorClass.rawValue) at \(error.fieldPath ?? "–"): \(error.message)")
                }
            }
            print("\n\(received.count) events read: \(normalized) normalized, \(failed) with a typed error for the DLQ")
        }
    }

    static func show(_ value: FieldValue?) -> String {
        guard let value else { return "–" }
        switch value {
        case .string(let text): return text
        case .number(let number): return "\(number)"
        case .bool(let flag): return "\(flag)"
        case .timestamp(let time): return time.rfc3339
        case .set(let values): return "{\(values.joined(separator: ";"))}"
        case .consent(let records): return "consent×\(records.count)"
        case .null: return "null"
        }
    }
}

/// Sample events from each source, in each source's native shape.
enum DemoSamples {
    struct Sample {
        var message: ProducerMessage
    }

    static func label(of message: ConsumerMessage) -> String {
        "\(message.topic)  \(message.headers.string("demo-label") ?? "")"
    }

    static func events(_ configuration: CrmsyncConfiguration) -> [Sample] {
        var clock: Int64 = 1_762_074_900_000
        func sample(_ role: TopicRole, key: String, label: String, format: String?, _ json: String) -> Sample {
            clock += 1_000
            var headers = [KafkaHeader(name: "demo-label", string: label)]
            if let format { headers.append(KafkaHeader(name: "crmsync-format", string: format)) }
            return Sample(message: ProducerMessage(topic: configuration.topic(role), key: Array(key.utf8), value: Array(json.utf8),
                                                   headers: headers, timestampMilliseconds: clock))
        }
        return [
            sample(.crm, key: "003A000001", label: "Salesforce rep creates Jane (canonical envelope)", format: "canonical", """
            {"event_id":"crm-1","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-11-02T09:15:00+01:00","actor":"rep@acmecorp.io","entity":"contact","external_id":"003A000001","fields":{"email":"  Jane.Doe@AcmeCorp.io ","first_name":" Jane ","last_name":"Doe","job_title":"VP Engineering","phone":"(415) 555-0101","lifecycle_stage":"sql"}}
            """),
            sample(.map, key: "1001", label: "HubSpot form sign-up, same person with a +tag (duplicate sign-up)", format: "hubspot-webhook", """
            [{"eventId":9001,"subscriptionId":1,"portalId":62515,"occurredAt":1762074960000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"changeSource":"FORM","propertyName":"email","propertyValue":"jane.doe+webinar@acmecorp.io"}]
            """),
            sample(.map, key: "1001", label: "HubSpot sets the job title (MAP does not own it)", format: "hubspot-webhook", """
            [{"eventId":9002,"subscriptionId":1,"portalId":62515,"occurredAt":1762075020000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"changeSource":"INTEGRATION","propertyName":"jobtitle","propertyValue":"Marketing Lead"}]
            """),
            sample(.billing, key: "cus_Q1", label: "Stripe customer created", format: nil, """
            {"id":"evt_1Q","object":"event","type":"customer.created","created":1762075080,"data":{"object":{"id":"cus_Q1","object":"customer","email":"jane.doe@acmecorp.io","name":"Jane Doe","phone":"+1 415 555 0101"}}}
            """),
            sample(.product, key: "u-42", label: "Segment identify from the product", format: nil, """
            {"type":"identify","messageId":"seg-1","userId":"u-42","timestamp":"2026-11-02T09:20:00.000Z","traits":{"email":"JANE.DOE@acmecorp.io","firstName":"Jane","lastName":"Doe"}}
            """),
            sample(.map, key: "1001", label: "HubSpot unsubscribe", format: "hubspot-webhook", """
            [{"eventId":9003,"subscriptionId":1,"portalId":62515,"occurredAt":1762075200000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"changeSource":"EMAIL","propertyName":"hs_email_optout","propertyValue":"true"}]
            """),
            sample(.crm, key: "003A000002", label: "a truncated message (poison)", format: nil, """
            {"event_id":"crm-2","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-11-02T
            """),
            sample(.crm, key: "003A000003", label: "an unmapped lifecycle stage", format: "canonical", """
            {"event_id":"crm-3","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-11-02T10:00:00Z","entity":"contact","external_id":"003A000003","fields":{"email":"kim@globex-corp.com","lifecycle_stage":"Warm-ish"}}
            """),
        ]
    }
}
