import CRMModel
import DeadLetters
import Foundation
import Kafka
import Logging
import Testing

@Suite("Dead letters", .timeLimit(.minutes(1)))
struct DeadLetterTests {
    let failedAt = Timestamp(epochMilliseconds: 1_767_225_600_123)

    func consumed(headers: [KafkaHeader], value: [UInt8]? = Array("{\"email\": 42".utf8)) -> ConsumerMessage {
        ConsumerMessage(topic: "crm.events.v1", partition: 4, offset: 1_234, key: Array("003A".utf8), value: value,
                        headers: headers, timestampMilliseconds: 1_767_000_000_000)
    }

    @Test("a letter keeps key, bytes and headers, and says what failed where")
    func letterHeaders() throws {
        let original = consumed(headers: [KafkaHeader(name: "crmsync-format", string: "canonical"), KafkaHeader(name: "trace", value: [0, 1, 2])])
        let error = EventError(.malformedJSON, field: "$", "unexpected end of input at byte 12")
        let record = DeadLetter(failed: original, error: error, failedAt: failedAt).record(topic: "dlq.events.v1")
        #expect(record.topic == "dlq.events.v1")
        #expect(record.key == original.key)
        #expect(record.value == original.value)
        #expect(Array(record.headers.prefix(2)) == original.headers, "original headers first, unchanged")
        let headers = record.headers
        #expect(headers.string("crmsync.error.class") == "malformed-json")
        #expect(headers.string("crmsync.error.stage") == "normalize")
        #expect(headers.string("crmsync.error.message") == "unexpected end of input at byte 12")
        #expect(headers.string("crmsync.error.field") == "$")
        #expect(headers.string("crmsync.original.topic") == "crm.events.v1")
        #expect(headers.string("crmsync.original.partition") == "4")
        #expect(headers.string("crmsync.original.offset") == "1234")
        #expect(headers.string("crmsync.original.timestamp") == "1767000000000")
        #expect(headers.string("crmsync.failed.at") == "2026-01-01T00:00:00.123Z")
        #expect(headers.string("crmsync.replay.count") == "0")
        #expect(record.timestampMilliseconds == failedAt.epochMilliseconds)
    }

    @Test("a replayed record that fails again keeps its replay count and sheds the old diagnostics")
    func replayedAgain() {
        let replayed = consumed(headers: [
            KafkaHeader(name: "crmsync-format", string: "stripe"),
            KafkaHeader(name: "crmsync.error.class", string: "unmapped-value"),
            KafkaHeader(name: "crmsync.original.offset", string: "7"),
            KafkaHeader(name: "crmsync.replay.count", string: "2"),
        ])
        let letter = DeadLetter(failed: replayed, error: EventError(.schema, "still wrong"), failedAt: failedAt)
        #expect(letter.replayCount == 2)
        #expect(letter.originalHeaders == [KafkaHeader(name: "crmsync-format", string: "stripe")])
        let headers = letter.record(topic: "dlq").headers
        #expect(headers.filter { $0.name == "crmsync.error.class" }.count == 1)
        #expect(headers.string("crmsync.error.class") == "schema")
        #expect(headers.string("crmsync.original.offset") == "1234")
    }

    @Test("a letter survives the trip through Kafka: produced, consumed and read back equal")
    func roundTripThroughKafka() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let cluster = try MockCluster(brokers: 1, logger: logger)
        try cluster.createTopic(TopicSpecification(name: "dlq.events.v1", partitions: 2, replicationFactor: 1))
        let invalidUTF8: [UInt8] = [0x7B, 0xFF, 0xFE, 0x7D]
        let letter = DeadLetter(failed: consumed(headers: [KafkaHeader(name: "h", value: nil)], value: invalidUTF8),
                                error: EventError(.malformedJSON, "invalid UTF-8 at byte 1"), failedAt: failedAt)
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        try await producer.send(letter.record(topic: "dlq.events.v1"))
        await producer.close()

        let consumer = try KafkaConsumer(configuration: ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: "dlq-reader"), logger: logger)
        try consumer.subscribe(["dlq.events.v1"])
        let batch = try await consumer.nextBatch(maxMessages: 1)
        await consumer.close()
        let message = try #require(batch.first)
        #expect(message.value == invalidUTF8, "the original bytes, unchanged")
        let readBack = try #require(DeadLetter(letter: message))
        #expect(readBack == letter)
        #expect(DeadLetter(letter: consumed(headers: [])) == nil, "an ordinary record is not a letter")
    }
}
