import Foundation
import Kafka
import Logging
import Testing

/// `crmsync dev-broker` + `crmsync run` on a fresh store, a producer to publish canonical events,
/// and the CLI's read commands as JSON. Waits on `stats --json` totals, never on time.
final class LivePipeline: @unchecked Sendable {
    // @unchecked: every property is set in init and only read afterwards, except `processor`,
    // which only the test's own task replaces (``restartProcessor(config:)``).
    let directory: URL
    let store: String
    let broker: DevBrokerProcess
    let producer: KafkaProducer
    private(set) var processor: ProcessorProcess
    let logger: Logger
    let batchSize: Int

    init(name: String, batchSize: Int = 10) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = directory.appendingPathComponent("\(name).sqlite").path
        var logger = Logger(label: name)
        logger.logLevel = .critical
        self.logger = logger
        self.batchSize = batchSize
        broker = try await DevBrokerProcess()
        producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: broker.bootstrapServers), logger: logger)
        // Short group timers: a restarted processor rejoins in seconds.
        let config = try FailureSupport.writeConfig(in: directory)
        processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: batchSize, config: config)
    }

    /// `--brokers` and `--store` for commands run against this pipeline.
    var common: [String] { ["--brokers", broker.bootstrapServers, "--store", store] }

    /// Publishes one canonical event (as JSON text) to `topic`, keyed by its external id.
    func send(_ topic: String, key: String, _ json: String) async throws {
        try await send(topic, key: key, bytes: Array(json.utf8))
    }

    /// Publishes raw bytes (malformed input included) with headers.
    func send(_ topic: String, key: String, bytes: [UInt8], headers: [KafkaHeader] = []) async throws {
        try await producer.send(ProducerMessage(topic: topic, key: Array(key.utf8), value: bytes, headers: headers))
    }

    /// `stats --json` `events` by outcome and `total`; empty while the processor has not
    /// created the store yet.
    func events() async throws -> [String: Int] {
        (try await storeStats(store, requireSuccess: false)["events"] as? [String: Int]) ?? [:]
    }

    /// `stats --json` `events.total`; 0 while the processor has not created the store yet.
    func total() async throws -> Int {
        try await events()["total"] ?? 0
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

    /// Stops `crmsync run` gracefully (expecting exit 0) and starts it again, optionally with a config file.
    func restartProcessor(config: String?) async throws {
        #expect(await processor.signal(SIGTERM) == 0)
        processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: batchSize, config: config)
    }

    /// Waits until the DLQ holds `count` records (the relay publishes them after their batch
    /// commits) and returns them, read from the beginning by a group-less consumer. Records an
    /// issue and returns what arrived if nothing new comes for `idle` (so a test fails instead
    /// of hanging until its time limit).
    func letters(_ count: Int, topic: String = "dlq.events.v1", partitions: Int32 = 3, idle: Duration = .seconds(60)) async throws -> [ConsumerMessage] {
        let consumer = try KafkaConsumer(
            configuration: ConsumerConfiguration(bootstrapServers: broker.bootstrapServers, groupID: "test-reader", overrides: ["enable.auto.commit": "false"]),
            logger: logger)
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<partitions).map { (TopicPartition(topic: topic, partition: $0), KafkaOffset.beginning) }))
        var messages: [ConsumerMessage] = []
        while messages.count < count {
            guard let batch = try await consumer.nextBatch(maxMessages: 500, within: idle), !batch.isEmpty else {
                Issue.record("\(topic) holds \(messages.count) records, expected \(count); nothing new for \(idle)")
                break
            }
            messages += batch
        }
        await consumer.close()
        return messages
    }

    /// High watermarks of `topic`'s partitions.
    func highWatermarks(_ topic: String, partitions: Int32) async throws -> [Int32: Int64] {
        let reader = try TopicSnapshot.Reader(bootstrapServers: broker.bootstrapServers, logger: logger)
        let marks = try await reader.watermarks(topic: topic, partitions: partitions).mapValues(\.high)
        await reader.close()
        return marks
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
