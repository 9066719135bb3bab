import Foundation
import Kafka
import Logging
import Testing

/// `crmsync dev-broker` + `crmsync run` on a fresh store, a producer to publish canonical events,
/// and the CLI's read commands as JSON. Waits on `stats --json` totals, never on time.
final class LivePipeline: @unchecked Sendable {
    // @unchecked: every property is set in init and only read afterwards.
    let directory: URL
    let store: String
    let broker: DevBrokerProcess
    let producer: KafkaProducer
    let processor: ProcessorProcess
    let logger: Logger

    init(name: String, batchSize: Int = 10) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = directory.appendingPathComponent("\(name).sqlite").path
        var logger = Logger(label: name)
        logger.logLevel = .critical
        self.logger = logger
        broker = try await DevBrokerProcess()
        producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: broker.bootstrapServers), logger: logger)
        processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: batchSize)
    }

    /// Publishes one canonical event (as JSON text) to `topic`, keyed by its external id.
    func send(_ topic: String, key: String, _ json: String) async throws {
        try await producer.send(ProducerMessage(topic: topic, key: Array(key.utf8), value: Array(json.utf8)))
    }

    /// `stats --json` `events.total`; 0 while the processor has not created the store yet.
    func total() async throws -> Int {
        (try await storeStats(store, requireSuccess: false)["events"] as? [String: Int])?["total"] ?? 0
    }

    /// Returns once `stats` counts `total` input events (each commit logs "batch committed").
    func waitUntilProcessed(_ total: Int) async throws {
        while try await self.total() < total {
            guard await processor.waitForLine(containing: "batch committed") != nil else {
                Issue.record("crmsync run ended before \(total) events were processed")
                return
            }
        }
    }

    /// Runs a `crmsync` command against this store; JSON output parsed.
    func json(_ arguments: [String]) async throws -> (result: CommandResult, value: Any?) {
        let result = try await crmsync(arguments + ["--store", store])
        return (result, try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)))
    }

    /// `records get --external SYSTEM:ID --json`, or nil when not found.
    func record(_ external: String) async throws -> [String: Any]? {
        try await json(["records", "get", "--external", external, "--json"]).value as? [String: Any]
    }

    /// `audit --id ID --json`.
    func audit(_ id: String) async throws -> [[String: Any]] {
        try await json(["audit", "--id", id, "--json"]).value as? [[String: Any]] ?? []
    }

    /// Stops the processor (graceful), the producer and the broker.
    func stop() async {
        _ = await processor.signal(SIGTERM)
        await producer.close()
        _ = await broker.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A canonical envelope as JSON text; `fields` is a JSON object's text.
func canonicalEvent(_ id: String, source: String, system: String, type: String, at time: String, externalID: String,
                    fields: String = "{}") -> String {
    let entity = type.split(separator: ".").first.map(String.init) ?? "contact"
    return """
    {"event_id":"\(id)","source":"\(source)","system":"\(system)","type":"\(type)","occurred_at":"\(time)","entity":"\(entity)","external_id":"\(externalID)","fields":\(fields)}
    """
}
