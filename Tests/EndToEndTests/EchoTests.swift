import Foundation
import Kafka
import Logging
import Testing

/// A CRM that writes every golden-record change back to `crm.events.v1`, as a naive two-way
/// sync does. Without echo suppression each echo would make a new version, which the CRM would
/// echo again: a sync loop. With it, echoes are no-ops and the loop dies out at once.
@Suite("Echo suppression: a CRM echoing every change back cannot form a sync loop", .serialized, .timeLimit(.minutes(5)))
struct EchoTests {
    let logger: Logger = {
        var logger = Logger(label: "echo-test")
        logger.logLevel = .critical
        return logger
    }()

    /// Fields the simulated CRM syncs back (the ones a Salesforce–crmsync mapping would carry).
    static let echoedFields = ["email", "first_name", "last_name", "job_title", "phone", "email_opt_out"]

    func envelope(eventID: String, source: String, system: String, externalID: String, occurredAt: String, fields: [String: Any]) throws -> [UInt8] {
        let object: [String: Any] = [
            "event_id": eventID, "source": source, "system": system, "type": "contact.upserted", "occurred_at": occurredAt,
            "entity": "contact", "external_id": externalID, "fields": fields,
        ]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    @Test("every golden change echoed back once: no new versions, no audit events from echoes, the loop ends")
    func echoLoopDiesOut() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-echo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = directory.appendingPathComponent("echo.sqlite").path
        let broker = try await DevBrokerProcess()
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: broker.bootstrapServers), logger: logger)

        // Initial traffic: 30 people known to the CRM and to marketing.
        var inputs = 0
        for person in 0..<30 {
            try await producer.send(ProducerMessage(topic: "crm.events.v1", key: Array("sf-\(person)".utf8), value: try envelope(
                eventID: "sf-initial-\(person)", source: "crm", system: "salesforce", externalID: "sf-\(person)",
                occurredAt: "2026-11-01T10:00:00Z",
                fields: ["email": "echo.person\(person)@gmail.com", "first_name": "Echo", "last_name": "Person\(person)", "job_title": "Buyer"])))
            try await producer.send(ProducerMessage(topic: "map.events.v1", key: Array("hs-\(person)".utf8), value: try envelope(
                eventID: "hs-initial-\(person)", source: "map", system: "hubspot", externalID: "hs-\(person)",
                occurredAt: "2026-11-01T11:00:00Z",
                fields: ["email": "echoperson\(person)+news@googlemail.com", "job_title": "Marketing's idea", "lead_score": 40])))
            inputs += 2
        }

        let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 25)

        // The simulated CRM echoes every golden record it has not echoed yet. After each commit
        // or publish of the processor it looks again; it stops when everything is consumed,
        // published, and nothing new appeared since its last look.
        var echoedPositions: Set<String> = []
        var echoed = 0
        var expectedInputs = inputs
        while true {
            let golden = try await TopicSnapshot.read(topic: "golden.records.v1", partitions: 6, bootstrapServers: broker.bootstrapServers, logger: logger)
            var newEchoes = 0
            for message in golden where echoedPositions.insert("\(message.partition)/\(message.offset)").inserted {
                let document = try #require(try JSONSerialization.jsonObject(with: Data(message.value ?? [])) as? [String: Any])
                let id = try #require(document["id"] as? String)
                let version = document["version"] as? Int ?? 0
                guard let salesforceID = (document["external_ids"] as? [String: [String]])?["salesforce"]?.first else { continue }
                let fields = (document["fields"] as? [String: Any] ?? [:]).filter { Self.echoedFields.contains($0.key) }
                try await producer.send(ProducerMessage(topic: "crm.events.v1", key: Array(salesforceID.utf8), value: try envelope(
                    eventID: "echo-\(id)-v\(version)", source: "crm", system: "salesforce", externalID: salesforceID,
                    occurredAt: "2026-11-02T12:00:00Z", fields: fields)))
                echoed += 1
                newEchoes += 1
                expectedInputs += 1
            }
            let stats = try await counts(store)
            let settled = stats.total == expectedInputs && stats.unsent == 0
            if settled, newEchoes == 0 { break }
            // Settled but we just echoed: look at the topic again before waiting for the processor.
            if settled { continue }
            // The processor's log lines are buffered, so one logged meanwhile is not missed.
            guard await processor.waitForLine(containing: "batch committed", or: ["outbox published"]) != nil else {
                Issue.record("crmsync run ended unexpectedly")
                return
            }
        }
        #expect(await processor.signal(SIGTERM) == 0)
        await producer.close()

        #expect(echoed >= 30, "every person's record was echoed at least once")
        let audit = try await TopicSnapshot.read(topic: "audit.events.v1", partitions: 6, bootstrapServers: broker.bootstrapServers, logger: logger)
        let echoAudits = audit.filter { String(decoding: $0.value ?? [], as: UTF8.self).contains("\"event_id\":\"echo-") }
        #expect(echoAudits.isEmpty, "echoes leave no audit noise")
        let stats = try await counts(store)
        #expect(stats.total == inputs + echoed, "every echo was consumed and accounted for")
        #expect(stats.applied == stats.total, "echoes are applied as no-ops, not dead-lettered or held")
        let golden = try await goldenMessages(broker.bootstrapServers)
        #expect(golden == echoedPositions.count, "no golden change after the echoes: the loop ended")
        #expect(golden <= 2 * 30, "only the initial traffic changed records (\(golden) golden messages)")
        _ = await broker.stop()
    }

    func counts(_ store: String) async throws -> (total: Int, applied: Int, unsent: Int) {
        let json = try await storeStats(store, requireSuccess: false)
        let events = json["events"] as? [String: Int]
        return (events?["total"] ?? 0, events?["applied"] ?? 0, json["outbox_unsent"] as? Int ?? 0)
    }

    func goldenMessages(_ brokers: String) async throws -> Int {
        try await TopicSnapshot.read(topic: "golden.records.v1", partitions: 6, bootstrapServers: brokers, logger: logger).count
    }
}
