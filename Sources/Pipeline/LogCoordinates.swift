import Kafka
import Logging

/// Log metadata that says which input a pipeline log line is about: its Kafka coordinates and,
/// when known, its event id(s). Never the message's content (the log handler masks customer data
/// in everything else).
enum LogCoordinates {
    /// `topic`, `partition`, `offset` of `message`, and `event_id` when `eventIDs` is not empty
    /// (a message that became several canonical events lists them comma-separated).
    static func of(_ message: ConsumerMessage, eventIDs: [String] = []) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)"]
        if !eventIDs.isEmpty { metadata["event_id"] = "\(eventIDs.joined(separator: ","))" }
        return metadata
    }

    /// A batch as `topic[partition]@first-last` per partition, for lines about a whole batch.
    static func of(batch: [ConsumerMessage]) -> Logger.Metadata {
        var ranges: [TopicPartition: (first: Int64, last: Int64)] = [:]
        for message in batch {
            let range = ranges[message.topicPartition]
            ranges[message.topicPartition] = (min(range?.first ?? message.offset, message.offset), max(range?.last ?? message.offset, message.offset))
        }
        let text = ranges.sorted { $0.key < $1.key }
            .map { "\($0.key.topic)[\($0.key.partition)]@\($0.value.first)-\($0.value.last)" }.joined(separator: ",")
        return ["batch": "\(text)"]
    }

    /// The partition a line is about, and the offset when there is one.
    static func of(_ partition: TopicPartition, offset: Int64? = nil) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["topic": "\(partition.topic)", "partition": "\(partition.partition)"]
        if let offset { metadata["offset"] = "\(offset)" }
        return metadata
    }
}
