import Foundation
import Kafka
import Logging
import Testing

/// The failure-mode suites (poison corpus, offset alarm, transient faults, parking) each start a
/// dev broker and `crmsync run`: nested here, they run one after another instead of all at once
/// next to the rest of the test suite on a 2-core machine.
@Suite("Failure modes through the binary", .serialized)
enum FailureModes {}

/// Helpers shared by the failure-mode tests (poison corpus, offset alarm, transient faults).
enum FailureSupport {
    static let logger: Logger = {
        var logger = Logger(label: "failure-test")
        logger.logLevel = .critical
        return logger
    }()

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Writes a `crmsync.yml` into `directory` with short consumer-group timers (a restarted
    /// `run` rejoins within seconds instead of the default 45 s session timeout) and the
    /// repository's config tables (or another picklist file); run `crmsync run` with
    /// `directory` as working directory, or pass the returned path as `--config`.
    @discardableResult
    static func writeConfig(in directory: URL, mappings: String = "\(repositoryRoot)/config/picklists.yml") throws -> String {
        let file = directory.appendingPathComponent("crmsync.yml")
        try Data("""
        kafka:
          session.timeout.ms: 3000
          heartbeat.interval.ms: 300
        ownership: \(repositoryRoot)/config/ownership.yml
        normalize:
          mappings: \(mappings)
          blocked_identifiers: \(repositoryRoot)/config/blocked-identifiers.yml
        """.utf8).write(to: file)
        return file.path
    }

    /// Produces `messages` in order (all enqueued first, then every delivery awaited) and returns
    /// their delivery reports in the same order; fails if any was not delivered.
    static func produce(_ messages: [ProducerMessage], to brokers: String, overrides: [String: String] = [:]) async throws -> [DeliveryReport] {
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: brokers, overrides: overrides), logger: logger)
        let results = Locked<[Int: Result<DeliveryReport, KafkaError>]>([:])
        for (index, message) in messages.enumerated() {
            try await producer.send(message) { result in results.withLock { $0[index] = result } }
        }
        let outstanding = await producer.flush()
        await producer.close()
        #expect(outstanding == 0, "every test message delivered")
        let collected = results.withLock { $0 }
        return try messages.indices.map { index in
            guard let result = collected[index] else { throw KafkaTestError.notDelivered(index) }
            return try result.get()
        }
    }

    enum KafkaTestError: Error { case notDelivered(Int) }

    /// A canonical `contact.upserted` envelope for a person no other event mentions.
    static func validEvent(source: String, system: String, id: String, occurredAt: String = "2026-03-01T10:00:00Z") -> [UInt8] {
        var fields: [String: Any] = ["email": "\(id)@example-\(source).com"]
        switch source {
        case "crm": fields["first_name"] = "First"; fields["last_name"] = "Person \(id)"; fields["job_title"] = "Buyer"
        case "map": fields["lead_score"] = 42
        case "billing": fields["plan"] = "pro"; fields["mrr"] = 99
        default: fields["last_seen_at"] = "2026-03-01T09:00:00Z"
        }
        let object: [String: Any] = [
            "event_id": "evt-\(id)", "source": source, "system": system, "type": "contact.upserted", "occurred_at": occurredAt,
            "entity": "contact", "external_id": "ext-\(id)", "fields": fields,
        ]
        // JSONSerialization of this dictionary cannot fail; an empty body would be dead-lettered
        // and the test's accounting would say so.
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// The four source topics with the source and system their valid events carry.
    static let sources: [(topic: String, source: String, system: String)] = [
        ("crm.events.v1", "crm", "salesforce"), ("map.events.v1", "map", "hubspot"),
        ("billing.events.v1", "billing", "stripe"), ("product.events.v1", "product", "segment"),
    ]

    /// Waits, on the processor's own log lines and never on a timer, until `stats --json` of
    /// `store` satisfies `done`; returns those stats. Records an issue if `run` ends first.
    static func awaitStats(_ store: String, processor: ProcessorProcess, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        while true {
            let stats = try await storeStats(store, requireSuccess: false)
            if done(stats) { return stats }
            guard await processor.waitForLine(containing: "batch committed", or: ["outbox published", "ALARM", "transient failure"]) != nil else {
                Issue.record("crmsync run ended while the test was waiting; last stats: \(stats)")
                return stats
            }
        }
    }

    static func events(_ stats: [String: Any]) -> [String: Int] { stats["events"] as? [String: Int] ?? [:] }

    /// The accounting identity (docs/contract.md#accounting-identity).
    static func identityHolds(_ stats: [String: Any]) -> Bool {
        let e = events(stats)
        return e["total"] == (e["applied"] ?? 0) + (e["duplicate"] ?? 0) + (e["review"] ?? 0) + (e["dead_lettered"] ?? 0)
    }

    static func unsent(_ stats: [String: Any]) -> Int { stats["outbox_unsent"] as? Int ?? -1 }
}
