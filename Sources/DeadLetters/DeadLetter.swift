import CRMModel
import Kafka

/// Header names a dead letter carries (docs/contract.md#dead-letters). All values are UTF-8 text; numbers are
/// decimal. These names are a public contract: tools filter and replay by them.
public enum DeadLetterHeader {
    public static let errorClass = "crmsync.error.class"
    public static let errorStage = "crmsync.error.stage"
    public static let errorMessage = "crmsync.error.message"
    /// Path of the offending field inside the payload (`fields.email`, `[2].propertyValue`), when known.
    public static let errorField = "crmsync.error.field"
    public static let originalTopic = "crmsync.original.topic"
    public static let originalPartition = "crmsync.original.partition"
    public static let originalOffset = "crmsync.original.offset"
    /// The original record's Kafka timestamp, milliseconds since the epoch.
    public static let originalTimestamp = "crmsync.original.timestamp"
    /// When crmsync gave up on the record, RFC 3339 UTC.
    public static let failedAt = "crmsync.failed.at"
    /// How many times the record has been replayed from the DLQ before this failure.
    public static let replayCount = "crmsync.replay.count"

    /// Headers crmsync adds; everything else on a letter is the original record's own.
    public static let all: Set<String> = [
        errorClass, errorStage, errorMessage, errorField, originalTopic, originalPartition, originalOffset,
        originalTimestamp, failedAt, replayCount,
    ]
}

/// A dead letter: the original record, byte for byte, plus why and where it failed.
public struct DeadLetter: Sendable, Hashable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    /// The original record's headers, in order, without crmsync's diagnostic headers.
    public var originalHeaders: [KafkaHeader]
    public var error: EventError
    public var originalTopic: String
    public var originalPartition: Int32
    public var originalOffset: Int64
    public var originalTimestampMilliseconds: Int64?
    public var failedAt: Timestamp
    public var replayCount: Int

    /// Builds the letter for a record that failed permanently. A record replayed from the DLQ
    /// keeps its replay count (the replay tool raised it when it re-published the record).
    public init(failed message: ConsumerMessage, error: EventError, failedAt: Timestamp) {
        key = message.key
        value = message.value
        originalHeaders = message.headers.filter { !DeadLetterHeader.all.contains($0.name) }
        self.error = error
        originalTopic = message.topic
        originalPartition = message.partition
        originalOffset = message.offset
        originalTimestampMilliseconds = message.timestampMilliseconds
        self.failedAt = failedAt
        replayCount = message.headers.string(DeadLetterHeader.replayCount).flatMap(Int.init) ?? 0
    }

    /// Reads a letter back from the DLQ topic; `nil` if the record is not a crmsync dead letter.
    public init?(letter message: ConsumerMessage) {
        let headers = message.headers
        guard
            let errorClassName = headers.string(DeadLetterHeader.errorClass),
            let topic = headers.string(DeadLetterHeader.originalTopic),
            let partition = headers.string(DeadLetterHeader.originalPartition).flatMap(Int32.init),
            let offset = headers.string(DeadLetterHeader.originalOffset).flatMap(Int64.init)
        else { return nil }
        let errorClass = EventError.Class(rawValue: errorClassName) ?? .schema
        let stage = headers.string(DeadLetterHeader.errorStage).flatMap(PipelineStage.init(rawValue:)) ?? .normalize
        error = EventError(errorClass, stage: stage, field: headers.string(DeadLetterHeader.errorField),
                           headers.string(DeadLetterHeader.errorMessage) ?? "")
        key = message.key
        value = message.value
        originalHeaders = headers.filter { !DeadLetterHeader.all.contains($0.name) }
        originalTopic = topic
        originalPartition = partition
        originalOffset = offset
        originalTimestampMilliseconds = headers.string(DeadLetterHeader.originalTimestamp).flatMap(Int64.init)
        failedAt = headers.string(DeadLetterHeader.failedAt).flatMap { try? Timestamp(rfc3339: $0) }
            ?? Timestamp(epochMilliseconds: message.timestampMilliseconds ?? 0)
        replayCount = headers.string(DeadLetterHeader.replayCount).flatMap(Int.init) ?? 0
    }

    /// The record to produce to `topic` (the DLQ): original key and bytes, original headers,
    /// then the diagnostic headers. Keyed like the original, so one key's letters stay in order.
    /// Its timestamp is the failure time, so the DLQ's 30-day retention counts from the failure,
    /// not from when the source first published the record.
    public func record(topic: String) -> ProducerMessage {
        var headers = originalHeaders
        headers.append(KafkaHeader(name: DeadLetterHeader.errorClass, string: error.errorClass.rawValue))
        headers.append(KafkaHeader(name: DeadLetterHeader.errorStage, string: error.stage.rawValue))
        headers.append(KafkaHeader(name: DeadLetterHeader.errorMessage, string: error.message))
        if let field = error.fieldPath {
            headers.append(KafkaHeader(name: DeadLetterHeader.errorField, string: field))
        }
        headers.append(KafkaHeader(name: DeadLetterHeader.originalTopic, string: originalTopic))
        headers.append(KafkaHeader(name: DeadLetterHeader.originalPartition, string: String(originalPartition)))
        headers.append(KafkaHeader(name: DeadLetterHeader.originalOffset, string: String(originalOffset)))
        if let originalTimestampMilliseconds {
            headers.append(KafkaHeader(name: DeadLetterHeader.originalTimestamp, string: String(originalTimestampMilliseconds)))
        }
        headers.append(KafkaHeader(name: DeadLetterHeader.failedAt, string: failedAt.rfc3339))
        headers.append(KafkaHeader(name: DeadLetterHeader.replayCount, string: String(replayCount)))
        return ProducerMessage(topic: topic, key: key, value: value, headers: headers, timestampMilliseconds: failedAt.epochMilliseconds)
    }
}
