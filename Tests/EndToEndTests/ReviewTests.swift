import Foundation
import Kafka
import Logging
import Testing

@Suite("Review requests: a conflicting critical field is held, then approved through the write path", .serialized, .timeLimit(.minutes(3)))
struct ReviewTests {
    let logger: Logger = {
        var logger = Logger(label: "review-test")
        logger.logLevel = .critical
        return logger
    }()

    func send(_ producer: KafkaProducer, topic: String, _ json: String) async throws {
        try await producer.send(ProducerMessage(topic: topic, key: Array("006A".utf8), value: Array(json.utf8)))
    }

    func applied(_ store: String) async throws -> Int {
        (try await storeStats(store, requireSuccess: false)["events"] as? [String: Int])?["total"] ?? 0
    }

    func waitUntil(_ processor: ProcessorProcess, store: String, total: Int) async throws {
        while try await applied(store) < total {
            guard await processor.waitForLine(containing: "batch committed") != nil else {
                Issue.record("crmsync run ended")
                return
            }
        }
    }

    @Test("deal amount: CRM owns it; another source's amount opens a review; approve writes it, audited; approving twice fails")
    func approveFieldReview() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-review-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = directory.appendingPathComponent("review.sqlite").path
        let broker = try await DevBrokerProcess()
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: broker.bootstrapServers), logger: logger)
        let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 10)

        try await send(producer, topic: "crm.events.v1", """
        {"event_id":"crm-deal-1","source":"crm","system":"salesforce","type":"deal.upserted","occurred_at":"2026-11-02T09:40:00Z","entity":"deal","external_id":"006A","fields":{"name":"Renewal","amount":50000,"currency":"USD"}}
        """)
        try await waitUntil(processor, store: store, total: 1)
        try await send(producer, topic: "billing.events.v1", """
        {"event_id":"billing-deal-1","source":"billing","system":"salesforce","type":"deal.upserted","occurred_at":"2026-11-02T09:45:00Z","entity":"deal","external_id":"006A","fields":{"amount":48000}}
        """)
        try await waitUntil(processor, store: store, total: 2)

        let list = try await crmsync(["review", "list", "--json", "--store", store])
        #expect(list.status == 0, "\(list.stderr)")
        let reviews = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(reviews.count == 1)
        let review = try #require(reviews.first)
        #expect(review["kind"] as? String == "field")
        let reviewID = try #require(review["id"] as? String)

        func amount() async throws -> Any? {
            let record = try await crmsync(["records", "get", "--external", "salesforce:006A", "--json", "--store", store])
            return ((try JSONSerialization.jsonObject(with: Data(record.stdout.utf8)) as? [String: Any])?["fields"] as? [String: Any])?["amount"]
        }
        #expect(try await amount() as? Int == 50000, "the record keeps its value while the review is open")

        let approve = try await crmsync(["review", "approve", reviewID, "--actor", "ops@acme", "--store", store])
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(try await amount() as? Int == 48000)
        let again = try await crmsync(["review", "approve", reviewID, "--store", store])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already approved"))
        #expect(try await crmsync(["review", "list", "--store", store]).stdout.contains("no open review requests"))

        let record = try await crmsync(["records", "get", "--external", "salesforce:006A", "--json", "--store", store])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(record.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let trail = try await crmsync(["audit", "--id", id, "--json", "--store", store])
        let events = try #require(try JSONSerialization.jsonObject(with: Data(trail.stdout.utf8)) as? [[String: Any]])
        let last = try #require(events.last)
        #expect(last["operation"] as? String == "review_resolved")
        #expect(last["actor"] as? String == "ops@acme")
        #expect(try await crmsync(["audit", "verify", "--store", store]).status == 0)

        // The processor's relay publishes the approval's outputs (a graceful stop drains the outbox).
        #expect(await processor.signal(SIGTERM) == 0)
        let golden = try await TopicSnapshot.read(topic: "golden.records.v1", partitions: 6, bootstrapServers: broker.bootstrapServers, logger: logger)
        let versions = golden.compactMap { try? JSONSerialization.jsonObject(with: Data($0.value ?? [])) as? [String: Any] }.filter { $0["id"] as? String == id }
        #expect(versions.contains { ($0["fields"] as? [String: Any])?["amount"] as? Int == 48000 })
        await producer.close()
        _ = await broker.stop()
    }
}
