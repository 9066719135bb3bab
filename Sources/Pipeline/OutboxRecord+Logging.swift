import DeadLetters
import Foundation
import Kafka
import Logging

extension OutboxRecord {
    /// What a relay log line about this row says about it, never its content: the row, the topic it
    /// goes to and its CloudEvents id; the event it came from when the row names one (audit events
    /// and review requests carry `event_id`); for a dead letter, the input's topic, partition and
    /// offset. Only for lines about one row's trouble (the body is parsed for the event id).
    var logMetadata: Logger.Metadata {
        let headers = message.headers
        var metadata: Logger.Metadata = ["outbox_id": "\(id)", "output_topic": "\(message.topic)"]
        if let ceID = headers.string("ce_id") { metadata["ce_id"] = "\(ceID)" }
        if let topic = headers.string(DeadLetterHeader.originalTopic) { metadata["topic"] = "\(topic)" }
        if let partition = headers.string(DeadLetterHeader.originalPartition) { metadata["partition"] = "\(partition)" }
        if let offset = headers.string(DeadLetterHeader.originalOffset) { metadata["offset"] = "\(offset)" }
        if let value = message.value, value.first == UInt8(ascii: "{"),
           let document = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
           let eventID = document["event_id"] as? String {
            metadata["event_id"] = "\(eventID)"
        }
        return metadata
    }
}
