import CRMModel
import Kafka
@testable import Pipeline
import Testing

/// Issue 14 item 5: golden documents reach each partition in version order even when the relay
/// re-sends rows alone after a refused request.
@Suite struct GoldenOrderTests {
    func golden(_ id: Int64, key: String, version: Int) -> OutboxRecord {
        OutboxRecord(id: id, message: ProducerMessage(topic: "golden.records.v1", key: Array(key.utf8), value: Array("v\(version)".utf8),
                                                      headers: CloudEvents.headers(id: "\(key)@\(version)", type: "crmsync.golden.contact",
                                                                                   time: Timestamp(epochMilliseconds: 0))))
    }

    func audit(_ id: Int64, key: String) -> OutboxRecord {
        OutboxRecord(id: id, message: ProducerMessage(topic: "audit.events.v1", key: Array(key.utf8), value: Array("a".utf8),
                                                      headers: CloudEvents.headers(id: "a\(id)", type: "crmsync.audit.update",
                                                                                   time: Timestamp(epochMilliseconds: 0))))
    }

    @Test func aRefusedOlderVersionOvertakenByANewerOneIsSuperseded() {
        let records = [golden(1, key: "c-1", version: 1), golden(2, key: "c-2", version: 1), golden(3, key: "c-1", version: 2), audit(4, key: "c-1")]
        // The request with rows 1 and 2 was refused; row 3 (c-1 v2) was delivered in another.
        #expect(GoldenOrder.superseded(records, failed: [1, 2]) == [1], "c-1 v1 would land after v2; c-2 v1 has no newer version")
        // Both versions refused: both are re-sent alone, in id order.
        #expect(GoldenOrder.superseded(records, failed: [1, 3]).isEmpty)
        // Audit events are a chain, never superseded.
        #expect(GoldenOrder.superseded([audit(1, key: "c-1"), audit(2, key: "c-1")], failed: [1]).isEmpty)
    }
}
