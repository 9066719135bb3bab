import Kafka
import Logging

/// Runs the pipeline's Kafka edge: consumes the source topics as a group member, hands each
/// batch to the write stage (one transaction: effects, outbox, offsets), retries transient
/// failures with backoff while the batch's partitions are paused, and lets the relay publish.
///
/// Offsets live in the store: on assignment the consumer starts where the store says, so a
/// crash at any point replays exactly the batches whose transaction did not commit.
public final class Processor: Sendable {
    public struct Settings: Sendable {
        public var topics: [String]
        public var consumer: ConsumerConfiguration
        public var maxBatch: Int = 500
        public var backoff = Backoff()
        /// Called after each batch commits (progress reporting, demos, tests).
        public var onBatchCommitted: (@Sendable (BatchResult) -> Void)?

        public init(topics: [String], consumer: ConsumerConfiguration) {
            self.topics = topics
            self.consumer = consumer
        }
    }

    private let settings: Settings
    private let writer: any BatchWriter
    private let relay: OutboxRelay
    private let logger: Logger
    private let executor = DispatchExecutor(label: "crmsync.write-stage")
    private let consumer: KafkaConsumer

    public init(settings: Settings, writer: any BatchWriter, relay: OutboxRelay, logger: Logger) throws(KafkaError) {
        self.settings = settings
        self.writer = writer
        self.relay = relay
        self.logger = logger
        var consumerSettings = settings.consumer
        // The store holds the truth; Kafka's committed offsets are only for lag dashboards.
        consumerSettings.kafka["enable.auto.commit"] = "true"
        consumerSettings.kafka["enable.auto.offset.store"] = "false"
        let listener = StoreOffsetsListener(writer: writer, logger: logger)
        consumer = try KafkaConsumer(configuration: consumerSettings, rebalanceListener: listener, logger: logger, name: "processor")
    }

    /// Consumes until the task running it is cancelled. That is the graceful shutdown: the
    /// current batch finishes and commits, the consumer leaves the group (so partitions move
    /// at once), and the outbox is drained.
    public func run() async throws {
        try consumer.subscribe(settings.topics)
        let relay = self.relay
        let relayTask = Task { try await relay.run() }
        defer { relayTask.cancel() }
        do {
            while !Task.isCancelled {
                let batch = try await consumer.nextBatch(maxMessages: settings.maxBatch)
                if batch.isEmpty { break }
                try await write(batch)
            }
        } catch is CancellationError {
            // Cancelled during a transient-failure backoff: the batch is not committed and will
            // be consumed again from the store's offsets; shut down like a normal stop.
        } catch {
            logger.error("processor stopped: \(error)")
            await consumer.close()
            throw error
        }
        await consumer.close()
        relayTask.cancel()
        try await relayTask.value
    }

    private func write(_ batch: [ConsumerMessage]) async throws {
        // No revocation can happen while a batch is in hand: librdkafka runs rebalance
        // callbacks only inside a poll, and the consumer drops buffered messages of revoked
        // partitions there. Every message of `batch` was fetched under the current assignment.
        var attempt = 0
        let partitions = Set(batch.map(\.topicPartition))
        while true {
            do {
                let writer = self.writer
                let pending = batch
                let result = try await executor.run { try writer.apply(pending) }
                try consumer.storeOffsets(result.nextOffsets)
                if attempt > 0 { try consumer.resume(Array(partitions)) }
                relay.wake()
                logger.info("batch committed", metadata: [
                    "records": "\(pending.count)",
                    "outcomes": "\(result.outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))",
                ])
                settings.onBatchCommitted?(result)
                return
            } catch let failure as TransientFailure {
                if attempt == 0 { try consumer.pause(Array(partitions)) }
                let delay = settings.backoff.delay(attempt: attempt)
                logger.warning("transient failure, retrying batch of \(batch.count) in \(delay) ms (attempt \(attempt + 1)): \(failure)")
                attempt += 1
                try await Task.sleep(nanoseconds: delay * 1_000_000)
            }
        }
    }
}

/// Starts each assigned partition at the offset the store recorded with the last committed batch.
private struct StoreOffsetsListener: RebalanceListener {
    let writer: any BatchWriter
    let logger: Logger

    func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        do {
            return try writer.storedOffsets(for: partitions)
        } catch {
            // Without the store's offsets we would reprocess from the group's commit, which is
            // safe (event ids are remembered) but noisy; log loudly.
            logger.error("cannot read stored offsets, starting from committed offsets: \(error)")
            return [:]
        }
    }

    func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {
        // Nothing to hand over: offsets are committed with each batch's transaction.
    }
}
