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
        /// Whether ``Processor/run()`` runs the relay itself; false where the relay runs as its
        /// own service (`crmsync run`'s service group stops it after the processor).
        public var runsRelay = true

        public init(topics: [String], consumer: ConsumerConfiguration) {
            self.topics = topics
            self.consumer = consumer
        }
    }

    private let settings: Settings
    private let writer: any BatchWriter
    var writerForProbe: any BatchWriter { writer }
    private let relay: OutboxRelay
    private let logger: Logger
    private let executor = DispatchExecutor(label: "crmsync.write-stage")
    let consumer: KafkaConsumer  // internal: Processor+Probe reads it for readiness and lag
    private let stopping = Locked(false)

    public init(settings: Settings, writer: any BatchWriter, relay: OutboxRelay, logger: Logger) throws(KafkaError) {
        self.settings = settings
        self.writer = writer
        self.relay = relay
        self.logger = logger
        var consumerSettings = settings.consumer
        // The store holds the truth; Kafka's committed offsets are for lag dashboards and carry
        // the store's mark (`markCommits`): committed explicitly after each batch, since
        // librdkafka's auto-commit would write them without it.
        consumerSettings.kafka["enable.auto.commit"] = "false"
        consumerSettings.kafka["enable.auto.offset.store"] = "false"
        // A corrupt batch must be seen to be stopped at (docs/guarantees.md#no-silent-stalls).
        consumerSettings.kafka["check.crcs"] = "true"
        // Never jump silently when a stored offset has expired (docs/contract.md#offset-out-of-range): librdkafka stops the
        // partition and reports it; `recover(_:)` raises the alarm and restarts it. Partitions
        // the store has never consumed start from the beginning (StoreOffsetsListener).
        consumerSettings.kafka["auto.offset.reset"] = "error"
        let listener = StoreOffsetsListener(writer: writer, logger: logger)
        consumer = try KafkaConsumer(configuration: consumerSettings, rebalanceListener: listener, logger: logger, name: "processor")
    }

    /// Consumes until the task running it is cancelled. That is the graceful shutdown: the
    /// current batch finishes and commits, the consumer leaves the group (so partitions move
    /// at once), and the outbox is drained.
    ///
    /// A relay that stops on its own (a fatal producer error: publishing cannot go on without
    /// risking duplicates) stops consumption too: the batch in flight commits, the consumer
    /// leaves, and `run()` throws the relay's error, so the process ends and is restarted
    /// instead of growing an outbox nobody publishes.
    public func run() async throws {
        try consumer.subscribe(settings.topics)
        let relay = self.relay
        let consuming = Task { try await self.consume() }
        // A relay that fails (a fatal producer error) stops the consumption too: nothing more is
        // written that could not be published.
        let relayTask: Task<Void, any Error>? = settings.runsRelay ? Task {
            do {
                try await relay.run()
            } catch {
                consuming.cancel()
                throw error
            }
        } : nil
        defer { relayTask?.cancel() }
        try await withTaskCancellationHandler {
            try await consuming.value
        } onCancel: {
            consuming.cancel()
        }
        relayTask?.cancel()
        try await relayTask?.value
    }

    /// The delivery loop, until stopped, cancelled or a failure.
    private func consume() async throws {
        do {
            delivery: while !Task.isCancelled, !isStopping {
                switch try await consumer.nextDelivery(maxMessages: settings.maxBatch) {
                case .messages(let batch):
                    try await write(batch)
                case .offsetOutOfRange(let report):
                    try await recover(report)
                case .foreignCommit(let report):
                    try await halt(.foreignStore(report))
                case .unreadable(let report):
                    try await halt(.unreadableBatch(report))
                case .closed:
                    break delivery
                }
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
    }

    /// The graceful stop: ``run()`` returns after the batch in hand commits (a batch waiting
    /// for a transient failure to pass is left uncommitted, to be consumed again), leaving the
    /// group. Safe from any task; the lifecycle service calls it on SIGTERM.
    public func stop() {
        stopping.withLock { $0 = true }
        consumer.stopDeliveries()
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    /// Marks every offset commit with `storeID` and, on each assignment, stops with a
    /// ``StopAlarm/foreignStore(_:)`` where another store's id is found; `adopting`: take those
    /// partitions over instead (`crmsync run --adopt`). Call before ``run()``.
    public func markCommits(storeID: String, adopting: Bool) {
        consumer.markCommits(CommitMark(StopAlarm.mark(storeID: storeID), overwriteForeign: adopting))
    }

    /// Raises `alarm` (log line and store row) and throws it: the processor stops without
    /// writing anything for the partition; its offsets stay where they are.
    private func halt(_ alarm: StopAlarm) async throws -> Never {
        let writer = self.writer
        do {
            try await executor.run { try writer.recordStopAlarm(alarm) }
        } catch {
            logger.error("cannot record the alarm in the store: \(error)")
        }
        logger.critical("ALARM \(alarm)")
        throw alarm
    }

    private func write(_ batch: [ConsumerMessage]) async throws {
        // No revocation can happen while a batch is in hand: librdkafka runs rebalance
        // callbacks only inside a poll, and the consumer drops buffered messages of revoked
        // partitions there. Every message of `batch` was fetched under the current assignment.
        var attempt = 0
        let partitions = Set(batch.map(\.topicPartition))
        var paused: [TopicPartition] = []
        while true {
            do {
                let writer = self.writer
                let pending = batch
                let result = try await executor.run { try writer.apply(pending) }
                do {
                    try consumer.commit(result.nextOffsets)
                } catch {
                    // The store has the offsets; the next commit carries them to Kafka.
                    logger.warning("cannot commit offsets to Kafka: \(error)")
                }
                if attempt > 0 { try consumer.resume(paused) }
                relay.wake()
                logger.info("batch committed", metadata: [
                    "records": "\(pending.count)",
                    "outcomes": "\(result.outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))",
                ])
                settings.onBatchCommitted?(result)
                return
            } catch let failure as TransientFailure {
                // Every assigned partition pauses, so the polls that keep this member in its group
                // during the backoff fetch nothing new.
                if attempt == 0 {
                    paused = Array(partitions.union(try consumer.assignment()))
                    try consumer.pause(paused)
                }
                attempt += 1
                try await sleepBeforeRetry(attempt: attempt, "batch of \(batch.count)", failure, keepPolling: true,
                                           metadata: LogCoordinates.of(batch: batch))
            }
        }
    }
}

extension Processor {
    /// A partition stopped because its position is not in the log: raise the alarm and move the
    /// store's offset in one transaction, log the lost range, restart the partition there.
    /// Broker and store hiccups on the way are retried with backoff like a batch.
    private func recover(_ report: OffsetOutOfRange) async throws {
        var attempt = 0
        // Once decided (and an alarm committed), a retry only restarts the fetch: one alarm per gap.
        var decided: Int64?
        while true {
            do {
                let resumeAt: Int64
                if let decided {
                    resumeAt = decided
                } else {
                    resumeAt = try await resumeOffset(after: report)
                }
                decided = resumeAt
                try await consumer.restartFetch(report.partition, at: resumeAt)
                return
            } catch let error as KafkaError where error.isRetriable {
                attempt += 1
                try await sleepBeforeRetry(attempt: attempt, "the recovery of \(report.partition)", error,
                                           metadata: LogCoordinates.of(report.partition, offset: report.offset))
            } catch let failure as TransientFailure {
                attempt += 1
                try await sleepBeforeRetry(attempt: attempt, "the recovery of \(report.partition)", failure,
                                           metadata: LogCoordinates.of(report.partition, offset: report.offset))
            }
        }
    }

    /// Where the stopped partition resumes; raises and commits the alarm when events were lost.
    private func resumeOffset(after report: OffsetOutOfRange) async throws -> Int64 {
        let partition = report.partition
        guard report.offset >= 0 else {
            // No position at all (nothing stored, nothing committed): start where the store
            // says, or at the beginning. Nothing was skipped, so no alarm.
            let writer = self.writer
            let stored = try await executor.run { try writer.storedOffsets(for: [partition]) }[partition]
            logger.warning("no starting offset for \(partition) (\(report.reason)); starting at \(stored.map(String.init) ?? "the beginning")",
                           metadata: LogCoordinates.of(partition))
            return stored ?? KafkaOffset.beginning
        }
        guard let marks = try await consumer.watermarks(for: [partition])[partition] else {
            throw KafkaError(code: KafkaErrorCode.unknownPartition, name: "_UNKNOWN_PARTITION", message: "no watermarks",
                             kind: .retriable, context: "watermarks of \(partition)")
        }
        guard report.offset < marks.low || report.offset > marks.high else {
            // In range after all (the log moved while the error was in flight): carry on.
            logger.warning("\(partition): offset \(report.offset) was reported out of range but is within \(marks.low)..<\(marks.high) now; continuing there",
                           metadata: LogCoordinates.of(partition, offset: report.offset))
            return report.offset
        }
        let alarm = OffsetAlarm(partition: partition, storedOffset: report.offset, lowWatermark: marks.low, highWatermark: marks.high)
        let writer = self.writer
        try await executor.run { try writer.raiseOffsetAlarm(alarm) }
        logger.error("ALARM \(alarm)", metadata: LogCoordinates.of(partition, offset: report.offset))
        return alarm.resumeAt
    }

    /// Logs the transient failure and waits the backoff's delay for retry number `attempt` (1-based).
    /// - Parameter keepPolling: poll (partitions paused) instead of sleeping, so a long failure
    ///   does not exceed `max.poll.interval.ms` and get this member dropped from the group.
    private func sleepBeforeRetry(attempt: Int, _ what: String, _ failure: any Error, keepPolling: Bool = false,
                                  metadata: Logger.Metadata) async throws {
        if isStopping { throw CancellationError() }  // stopping: leave it uncommitted, like a cancel
        let delay = settings.backoff.delay(attempt: attempt - 1)
        logger.warning("transient failure, retrying \(what) in \(delay) ms (attempt \(attempt)): \(failure)", metadata: metadata)
        if keepPolling {
            try await consumer.keepPolling(for: .milliseconds(Int64(delay)))
            try Task.checkCancellation()
        } else {
            try await Task.sleep(nanoseconds: delay * 1_000_000)
        }
    }
}

/// Starts each assigned partition at the offset the store recorded with the last committed
/// batch, and partitions the store has never consumed at the beginning (`auto.offset.reset`
/// is `error`, so nothing else would start them).
private struct StoreOffsetsListener: RebalanceListener {
    let writer: any BatchWriter
    let logger: Logger

    func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        do {
            let stored = try writer.storedOffsets(for: partitions)
            return Dictionary(uniqueKeysWithValues: partitions.map { ($0, stored[$0] ?? KafkaOffset.beginning) })
        } catch {
            // Without the store's offsets we would reprocess from the group's commit, which is
            // safe (event ids are remembered) but noisy; log loudly. (Where nothing is committed
            // either, librdkafka reports it and `recover(_:)` starts from the store or the beginning.)
            logger.error("cannot read stored offsets, starting from committed offsets: \(error)")
            return [:]
        }
    }

    func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {
        // Nothing to hand over: offsets are committed with each batch's transaction.
    }
}
