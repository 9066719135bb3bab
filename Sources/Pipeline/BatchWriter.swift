import Kafka

/// A failure that goes away by itself (SQLite busy or locked, disk momentarily full, a broker
/// timeout): the batch is retried with backoff, never dead-lettered, never skipped.
public struct TransientFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// What applying one batch achieved.
public struct BatchResult: Sendable, Hashable {
    /// Next offset to consume per partition, as committed with the batch.
    public var nextOffsets: [TopicPartition: Int64]
    /// How many input records had each outcome.
    public var outcomes: [String: Int]
    /// The same outcomes in detail, and what else the batch did, for metrics.
    public var summary: BatchSummary

    public init(nextOffsets: [TopicPartition: Int64], outcomes: [String: Int], summary: BatchSummary = BatchSummary()) {
        self.nextOffsets = nextOffsets
        self.outcomes = outcomes
        self.summary = summary
    }
}

/// The write stage seen from the Kafka edge: applies a batch of consumed records — their
/// effects, outbox rows (outputs and dead letters) and consumed offsets — in one transaction.
///
/// Synchronous and blocking (SQLite); the runtime calls it off the cooperative pool.
public protocol BatchWriter: Sendable {
    /// Applies `batch` atomically. Bad input never throws (it becomes a dead letter inside the
    /// same transaction); throws ``TransientFailure`` when the batch should be retried as a whole.
    func apply(_ batch: [ConsumerMessage]) throws -> BatchResult

    /// The next offsets the store has recorded for `partitions` (absent: never consumed).
    func storedOffsets(for partitions: [TopicPartition]) throws -> [TopicPartition: Int64]

    /// Records `alarm` and moves the partition's stored offset to `alarm.resumeAt`, in one
    /// transaction (a crash leaves both or neither). Throws ``TransientFailure`` to be retried.
    func raiseOffsetAlarm(_ alarm: OffsetAlarm) throws

    /// Records why the processor stops (the offsets stay where they are).
    func recordStopAlarm(_ alarm: StopAlarm) throws
}

/// A partition whose stored position is no longer in the log (docs/contract.md#offset-out-of-range: an alarm and a log line
/// naming the lost range, never a silent jump).
public struct OffsetAlarm: Sendable, Hashable, CustomStringConvertible {
    public var partition: TopicPartition
    /// The offset the store said to continue from.
    public var storedOffset: Int64
    /// The log's first and next offsets when the alarm was raised.
    public var lowWatermark: Int64
    public var highWatermark: Int64
    /// Where consumption resumes (the low watermark).
    public var resumeAt: Int64

    public init(partition: TopicPartition, storedOffset: Int64, lowWatermark: Int64, highWatermark: Int64) {
        self.partition = partition
        self.storedOffset = storedOffset
        self.lowWatermark = lowWatermark
        self.highWatermark = highWatermark
        self.resumeAt = lowWatermark
    }

    /// The offsets that expired before they were read: `storedOffset ... lowWatermark - 1`, or
    /// nil when the stored offset lies beyond the log end (the log was truncated or the topic
    /// recreated: nothing known to be lost, and the log is read again from its start).
    public var lostRange: ClosedRange<Int64>? {
        storedOffset < lowWatermark ? storedOffset...(lowWatermark - 1) : nil
    }

    public var description: String {
        if let lost = lostRange {
            return "offset out of range on \(partition.topic) partition \(partition.partition): offsets \(lost.lowerBound)...\(lost.upperBound) "
                + "(\(lost.count) events) expired before they were read; resuming at the log start \(resumeAt)"
        }
        return "offset out of range on \(partition.topic) partition \(partition.partition): stored offset \(storedOffset) is beyond the log end "
            + "\(highWatermark) (log truncated or topic recreated); re-reading from the log start \(resumeAt), events seen before count as duplicates"
    }
}

/// One output record waiting in the outbox.
public struct OutboxRecord: Sendable, Hashable {
    /// Monotonic position in the outbox: records are published in this order.
    public var id: Int64
    public var message: ProducerMessage

    public init(id: Int64, message: ProducerMessage) {
        self.id = id
        self.message = message
    }
}

/// The outbox seen by the relay.
public protocol Outbox: Sendable {
    /// Up to `limit` unsent records, oldest first.
    func unsent(limit: Int) throws -> [OutboxRecord]
    /// Marks records as published.
    func markSent(_ ids: [Int64]) throws
    /// Sets aside a record the broker will never accept; ``unsent(limit:)`` skips it from now on.
    func park(_ id: Int64, reason: String) throws
}
