import Audit
import CRMModel
import Foundation
import Kafka
import Store

/// CloudEvents 1.0 binary-mode headers (`ce_*`) for every output record (docs/contract.md#output-documents).
enum CloudEvents {
    static let source = "urn:crmsync"

    static func headers(id: String, type: String, time: Timestamp) -> [KafkaHeader] {
        [
            KafkaHeader(name: "ce_specversion", string: "1.0"),
            KafkaHeader(name: "ce_id", string: id),
            KafkaHeader(name: "ce_source", string: source),
            KafkaHeader(name: "ce_type", string: type),
            KafkaHeader(name: "ce_time", string: time.rfc3339),
            KafkaHeader(name: "content-type", string: "application/json"),
        ]
    }
}

/// The output records one write produces, ready for the outbox.
enum OutputRecords {
    static func golden(_ document: GoldenRecordDocument, topic: String, at time: Timestamp) throws -> ProducerMessage {
        let value = document.jsonBytes()
        // ce_id names the record version: a republished copy has the same id.
        let id = "\(document.id)@\(document.version)"
        return ProducerMessage(topic: topic, key: Array(document.id.utf8), value: value,
                               headers: CloudEvents.headers(id: id, type: "crmsync.golden.\(document.entity.rawValue)", time: time))
    }

    /// - Parameter json: the event's document when the caller has it (``AuditEvent/sealedWithJSON``).
    static func audit(_ event: AuditEvent, json: [UInt8]? = nil, topic: String) -> ProducerMessage {
        ProducerMessage(topic: topic, key: Array(event.goldenID.utf8), value: json ?? event.jsonBytes(),
                        headers: CloudEvents.headers(id: event.auditID, type: "crmsync.audit.\(event.operation.rawValue)", time: event.appliedAt))
    }

    static func review(id: String, goldenID: String?, kind: String, body: [String: Any], topic: String, at time: Timestamp) -> ProducerMessage {
        var document = body
        document["review_id"] = id
        document["kind"] = kind
        document["golden_id"] = goldenID ?? NSNull()
        document["created_at"] = time.rfc3339
        let value = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return ProducerMessage(topic: topic, key: goldenID.map { Array($0.utf8) }, value: Array(value),
                               headers: CloudEvents.headers(id: id, type: "crmsync.review.\(kind)", time: time))
    }
}

extension OutboxMessage {
    /// Stores a Kafka record in the outbox.
    init(_ message: ProducerMessage, at time: Timestamp) {
        self.init(topic: message.topic, key: message.key.map { Data($0) }, value: Data(message.value ?? []),
                  headers: message.headers.map { OutboxHeader($0.name, bytes: $0.value.map { Data($0) }) }, createdAt: time)
    }

    /// The Kafka record to publish.
    public var producerMessage: ProducerMessage {
        ProducerMessage(topic: topic, key: key.map { Array($0) }, value: Array(value),
                        headers: headers.map { KafkaHeader(name: $0.name, value: $0.value.map { Array($0) }) })
    }
}
