import ArgumentParser
import CRMModel
import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Normalize
import Pipeline
import Store

/// `crmsync demo`: the pipeline on an embedded broker, with sample events from all four sources.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run an embedded Kafka, create the topics, publish sample events from all four sources and process them."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await reportingFailures {
            var configuration = try common.load(quietByDefault: true)
            let logger = Logger(label: "crmsync.demo")
            let definitions = try loadTopicDefinitions(configuration)
            // A fresh store per demo unless --store names one.
            if common.store == nil {
                configuration.store = FileManager.default.temporaryDirectory
                    .appendingPathComponent("crmsync-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sqlite").path
            }

            // A named store must be empty: its unsent outbox would be published into the
            // throwaway broker and marked sent, and its offsets belong to another cluster.
            if common.store != nil, FileManager.default.fileExists(atPath: configuration.store) {
                let existing: Bool
                do {
                    existing = try SQLiteStore(path: configuration.store).holdsData()
                } catch {
                    throw CLIFailure.store("\(error)")
                }
                if existing {
                    throw CLIFailure.usage("the store \(configuration.store) holds data; the demo needs a new or empty store (pass another --store)")
                }
            }

            // 1. Kafka: the embedded mock cluster and the topics of topics/.
            let cluster = try MockCluster(brokers: 3, logger: logger)
            configuration.brokers = cluster.bootstrapServers
            print("embedded Kafka (librdkafka mock cluster, 3 brokers): \(cluster.bootstrapServers)")
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(configuration.kafkaProperties), logger: logger)
            let report = try await TopicsApplier(admin: admin, creator: cluster).apply(definitions, dryRun: false)
            print("topics: \(report.created.count) created from topics/; store: \(configuration.store)\n")

            // 2. The processor, exactly as `crmsync run` wires it.
            let progress = Locked<[TopicPartition: Int64]>([:])
            let caughtUp = Locked<(targets: [TopicPartition: Int64], waiter: CheckedContinuation<Void, Never>?)>(([:], nil))
            let wiring = try Stages.processor(configuration, logger: logger) { settings in
                settings.onBatchCommitted = { result in
                    let now = progress.withLock { progress -> [TopicPartition: Int64] in
                        progress.merge(result.nextOffsets) { max($0, $1) }
                        return progress
                    }
                    DemoCommand.resumeIfCaughtUp(caughtUp, progress: now)
                }
            }
            let store = wiring.store
            let producer = wiring.producer
            let processor = wiring.processor
            let work = Task {
                // However the processor ends, stop waiting for it to catch up.
                defer { DemoCommand.resumeIfCaughtUp(caughtUp, progress: nil) }
                try await processor.run()
            }

            // 3. Sample events from all four sources, in their native shapes.
            let samples = DemoSamples.events(configuration)
            var targets: [TopicPartition: Int64] = [:]
            for sample in samples {
                let delivered = try await producer.send(sample)
                let partition = TopicPartition(topic: delivered.topic, partition: delivered.partition)
                targets[partition] = max(targets[partition] ?? 0, delivered.offset + 1)
                print("  → \(sample.topic.padding(toLength: 18, withPad: " ", startingAt: 0)) \(sample.headers.string("demo-label") ?? "")")
            }
            print("\npublished \(samples.count) events; processing…")
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                caughtUp.withLock { $0 = (targets, continuation) }
                DemoCommand.resumeIfCaughtUp(caughtUp, progress: progress.withLock { $0 })
            }
            work.cancel()
            do {
                try await work.value
            } catch is CancellationError {
            } catch {
                await producer.close()
                throw CLIFailure.other("the processor failed: \(error)")
            }
            await producer.close()

            // 4. What downstream consumers see.
            let golden = try await TopicSnapshot.read(topic: configuration.topic(.golden), partitions: partitions(of: .golden, definitions),
                                                        bootstrapServers: configuration.brokers, overrides: configuration.kafka, logger: logger)
            let audit = try await TopicSnapshot.read(topic: configuration.topic(.audit), partitions: partitions(of: .audit, definitions),
                                                        bootstrapServers: configuration.brokers, overrides: configuration.kafka, logger: logger)
            let reviews = try await TopicSnapshot.read(topic: configuration.topic(.review), partitions: partitions(of: .review, definitions),
                                                        bootstrapServers: configuration.brokers, overrides: configuration.kafka, logger: logger)
            let letters = try await TopicSnapshot.read(topic: configuration.topic(.dlq), partitions: partitions(of: .dlq, definitions),
                                                        bootstrapServers: configuration.brokers, overrides: configuration.kafka, logger: logger)
            DemoReport.printGolden(golden)
            DemoReport.printAudit(audit)
            DemoReport.printReviews(reviews)
            DemoReport.printDeadLetters(letters)
            try DemoReport.printAccounting(store)
        }
    }

    private func partitions(of role: TopicRole, _ definitions: [TopicDefinition]) -> Int32 {
        definitions.first { $0.role == role }?.specification.partitions ?? 1
    }

    /// Resumes the waiter once `progress` covers every target; `progress: nil` resumes it regardless.
    static func resumeIfCaughtUp(_ caughtUp: Locked<(targets: [TopicPartition: Int64], waiter: CheckedContinuation<Void, Never>?)>, progress: [TopicPartition: Int64]?) {
        let waiter = caughtUp.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else { return nil }
            if let progress, !state.targets.allSatisfy({ progress[$0.key] ?? 0 >= $0.value }) { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
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

    static func events(_ configuration: CrmsyncConfiguration) -> [ProducerMessage] {
        var clock: Int64 = 1793610840_000
        func sample(_ role: TopicRole, key: String, label: String, format: String?, _ json: String) -> ProducerMessage {
            clock += 1_000
            var headers = [KafkaHeader(name: "demo-label", string: label)]
            if let format { headers.append(KafkaHeader(name: "crmsync-format", string: format)) }
            return ProducerMessage(topic: configuration.topic(role), key: Array(key.utf8), value: Array(json.utf8),
                                   headers: headers, timestampMilliseconds: clock)
        }
        return [
            sample(.crm, key: "003A000001", label: "Salesforce rep creates Jane (canonical envelope)", format: "canonical", """
            {"event_id":"crm-1","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-11-02T09:15:00+01:00","actor":"rep@acmecorp.io","entity":"contact","external_id":"003A000001","fields":{"email":"  Jane.Doe@gmail.com ","first_name":" Jane ","last_name":"Doe","job_title":"VP Engineering","phone":"(415) 555-0101","lifecycle_stage":"sql","lead_source":"Web"}}
            """),
            sample(.map, key: "1001", label: "HubSpot form sign-up: same person as janedoe+webinar@googlemail.com (duplicate sign-up)", format: "hubspot-webhook", """
            [{"eventId":9001,"subscriptionId":1,"portalId":62515,"occurredAt":1793610960000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"changeSource":"FORM","propertyName":"email","propertyValue":"janedoe+webinar@googlemail.com"}]
            """),
            sample(.map, key: "1001", label: "HubSpot overwrites the job title the rep typed (MAP does not own it)", format: "hubspot-webhook", """
            [{"eventId":9002,"subscriptionId":1,"portalId":62515,"occurredAt":1793611020000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"changeSource":"INTEGRATION","propertyName":"jobtitle","propertyValue":"Marketing Lead"}]
            """),
            sample(.billing, key: "cus_Q1", label: "Stripe customer created", format: nil, """
            {"id":"evt_1Q","object":"event","type":"customer.created","created":1793611080,"data":{"object":{"id":"cus_Q1","object":"customer","email":"jane.doe@gmail.com","name":"Jane Doe","phone":"+1 415 555 0101"}}}
            """),
            sample(.product, key: "u-42", label: "Segment identify from the product", format: nil, """
            {"type":"identify","messageId":"seg-1","userId":"u-42","timestamp":"2026-11-02T09:20:00.000Z","traits":{"email":"JANE.DOE@GMAIL.COM","firstName":"Jane","lastName":"Doe"}}
            """),
            sample(.map, key: "1001", label: "Jane unsubscribes in HubSpot", format: "hubspot-webhook", """
            [{"eventId":9003,"subscriptionId":1,"portalId":62515,"occurredAt":1793611800000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"changeSource":"EMAIL","propertyName":"hs_email_optout","propertyValue":"true"}]
            """),
            sample(.crm, key: "006A000001", label: "Salesforce opportunity: $50,000", format: "canonical", """
            {"event_id":"crm-deal-1","source":"crm","system":"salesforce","type":"deal.upserted","occurred_at":"2026-11-02T09:40:00Z","actor":"rep@acmecorp.io","entity":"deal","external_id":"006A000001","fields":{"name":"Acme Corp renewal","amount":50000,"currency":"USD","stage":"negotiation"}}
            """),
            sample(.billing, key: "006A000001", label: "billing reports another amount for the same deal (a critical-field conflict)", format: "canonical", """
            {"event_id":"billing-deal-1","source":"billing","system":"salesforce","type":"deal.upserted","occurred_at":"2026-11-02T09:45:00Z","entity":"deal","external_id":"006A000001","fields":{"amount":48000}}
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
