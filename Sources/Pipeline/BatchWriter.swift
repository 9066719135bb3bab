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

    public init(nextOffsets: [TopicPartition: Int64], outcomes: [String: Int]) {
        self.nextOffsets = nextOffsets
        self.outcomes = outcomes
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
}
