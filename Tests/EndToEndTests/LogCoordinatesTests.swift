import Foundation
import Kafka
import Testing

/// The pipeline's log lines say which input they are about (topic, partition, offset, event id)
/// and never show customer data (issue 11).
extension FailureModes {
    @Suite("Log lines carry the input's coordinates", .serialized, .timeLimit(.minutes(3)))
    struct LogCoordinatesTests {
        @Test("with log_format: json, the review and dead-letter lines carry topic, partition, offset and (when known) event_id; no raw email anywhere")
        func coordinates() async throws {
            let directory = try FailureSupport.temporaryDirectory("log-coordinates")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("logs.sqlite").path
            let config = try FailureSupport.writeConfig(in: directory)
            let configText = try String(contentsOfFile: config, encoding: .utf8)
            try Data((configText + "\nlog_format: json\n").utf8).write(to: URL(fileURLWithPath: config))
            let broker = try await DevBrokerProcess()

            let robert = canonicalEvent("log-crm-1", source: "crm", system: "salesforce", type: "contact.upserted", at: "2026-03-01T10:00:00Z",
                                        externalID: "003LOG", fields: #"{"email":"robert.smith@acme-robotics.com","first_name":"Robert","last_name":"Smith"}"#)
            // Name and company only: never merged automatically, held for a person to decide.
            let bob = canonicalEvent("log-billing-1", source: "billing", system: "stripe", type: "contact.upserted", at: "2026-03-01T11:00:00Z",
                                     externalID: "cus_LOG", fields: #"{"first_name":"Robert","last_name":"Smith","company_domain":"acme-robotics.com"}"#)
            let poison = #"{"event_id":"log-poison-1","fields":{"email":"leak.me@example.com","#
            // Robert first, alone: the topics are consumed in no fixed order, and the record that
            // exists first is the one the other is held against.
            let crm = try await FailureSupport.produce([ProducerMessage(topic: "crm.events.v1", key: Array("003LOG".utf8), value: Array(robert.utf8))],
                                                       to: broker.bootstrapServers)
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20, config: config)
            var lines: [String] = []
            var stats: [String: Any] = [:]
            func readLines(untilEvents total: Int) async throws {
                while true {
                    stats = try await storeStats(store, requireSuccess: false)
                    if FailureSupport.events(stats)["total"] == total, FailureSupport.unsent(stats) == 0 { return }
                    guard let line = await processor.logLines.nextLine() else { Issue.record("run ended early"); return }
                    lines.append(line)
                }
            }
            try await readLines(untilEvents: 1)
            let billing = try await FailureSupport.produce([ProducerMessage(topic: "billing.events.v1", key: Array("cus_LOG".utf8), value: Array(bob.utf8))],
                                                           to: broker.bootstrapServers)
            let bad = try await FailureSupport.produce([ProducerMessage(topic: "crm.events.v1", key: Array("poison".utf8), value: Array(poison.utf8))],
                                                       to: broker.bootstrapServers)
            try await readLines(untilEvents: 3)
            #expect(await processor.signal(SIGTERM) == 0)
            while let line = await processor.logLines.nextLine() { lines.append(line) }
            #expect(FailureSupport.events(stats) == ["total": 3, "applied": 1, "duplicate": 0, "review": 1, "dead_lettered": 1], "\(stats)")

            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
            #expect(objects.count == lines.count, "every line is one JSON object of strings")
            func coordinates(_ object: [String: String]) -> [String] {
                [object["topic"], object["partition"], object["offset"]].map { $0 ?? "-" }
            }

            let review = objects.filter { $0["msg"]?.contains("held for review") == true }
            #expect(review.count == 1, "one line for the held event: \(review)")
            let held = try #require(review.first)
            let billingReport = try #require(billing.first)
            #expect(coordinates(held) == ["billing.events.v1", String(billingReport.partition), String(billingReport.offset)], "\(held)")
            #expect(held["event_id"] == "log-billing-1")
            #expect(held["system"] == "stripe")

            let letters = objects.filter { $0["msg"]?.contains("dead-lettered") == true }
            #expect(letters.count == 1, "\(letters)")
            let letter = try #require(letters.first)
            let badReport = try #require(bad.first)
            #expect(coordinates(letter) == ["crm.events.v1", String(badReport.partition), String(badReport.offset)], "\(letter)")
            #expect(letter["event_id"] == nil, "a message that never parsed has no event id to tell")
            #expect(crm.first.map { $0.partition != badReport.partition || $0.offset != badReport.offset } == true)

            for token in ["leak.me", "robert.smith", "Robert", "Smith"] {
                let leaks = lines.filter { $0.contains(token) }
                #expect(leaks.isEmpty, "\(token) leaked: \(leaks)")
            }
            _ = await broker.stop()
        }
    }
}
