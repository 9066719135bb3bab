import Foundation
import Testing
@testable import Kafka

/// `auto.offset.reset=error`: a position that is no longer in the log is reported as a typed
/// ``OffsetOutOfRange`` and the partition waits for ``KafkaConsumer/restartFetch(_:at:)``.
///
/// The mock cluster has no DeleteRecords and ignores retention, but it trims the head of a
/// partition's log once the partition holds more than 5 MB (`rd_kafka_mock_partition_log_append`),
/// which moves the low watermark exactly as retention would on a real broker.
@Suite("Offset out of range (auto.offset.reset=error)", .timeLimit(.minutes(3)))
struct OffsetOutOfRangeTests {
    /// A consumer that starts each partition where `start` says and never resets by itself.
    func consumer(_ fixture: MockFixture, start: [TopicPartition: Int64], strategy: String) throws -> KafkaConsumer {
        let store = Condition(OffsetStoreListener.State())
        store.update { $0.nextOffsets = start }
        var configuration = ConsumerConfiguration(
            bootstrapServers: fixture.cluster.bootstrapServers, groupID: "oor-\(UUID().uuidString.prefix(6))",
            overrides: ["auto.offset.reset": "error", "enable.auto.commit": "false", "partition.assignment.strategy": strategy,
                        "session.timeout.ms": "6000", "heartbeat.interval.ms": "500"])
        // Small hops, so the other partition is only partly consumed when the restart happens.
        configuration.maxBatch = 5
        configuration.pollTimeoutMilliseconds = 50
        return try KafkaConsumer(configuration: configuration, rebalanceListener: OffsetStoreListener(store: store), logger: fixture.logger)
    }

    @Test("a trimmed log head is reported, and the restart loses and repeats nothing on the other partitions",
          arguments: ["range", "cooperative-sticky"])
    func trimmedHead(strategy: String) async throws {
        let fixture = try MockFixture(brokers: 1, partitions: 2)
        let trimmed = TopicPartition(topic: fixture.topic, partition: 0)
        let steady = TopicPartition(topic: fixture.topic, partition: 1)
        let producer = try fixture.producer()
        // 6 MB into partition 0: more than the mock keeps, so its head is trimmed.
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        let big = (0..<60).map { ProducerMessage(topic: fixture.topic, partition: 0, key: Array("big-\($0)".utf8), value: filler) }
        let small = (0..<100).map { ProducerMessage(topic: fixture.topic, partition: 1, value: Array("small-\($0)".utf8)) }
        let reports = try await produceAll(producer, big + small)
        #expect(reports.allSatisfy { (try? $0.get()) != nil })
        await producer.close()

        let consumer = try consumer(fixture, start: [trimmed: 0, steady: 0], strategy: strategy)
        let marks = try await consumer.watermarks(for: [trimmed])
        let low = try #require(marks[trimmed]?.low), high = try #require(marks[trimmed]?.high)
        #expect(low > 0, "the mock trimmed the head of partition 0")
        #expect(high == 60)

        try consumer.subscribe([fixture.topic])
        var reportsSeen: [OffsetOutOfRange] = []
        var offsets: [TopicPartition: [Int64]] = [:]
        var restarted = false
        while offsets[trimmed, default: []].count < Int(high - low) || offsets[steady, default: []].count < 100 {
            switch try await consumer.nextDelivery(maxMessages: 5) {
            case .messages(let batch):
                for message in batch { offsets[message.topicPartition, default: []].append(message.offset) }
            case .offsetOutOfRange(let report):
                reportsSeen.append(report)
            case .foreignCommit(let report):
                Issue.record("unexpected foreign commit: \(report)")
                return
            case .unreadable(let report):
                Issue.record("unexpected unreadable batch: \(report)")
                return
            case .closed:
                Issue.record("consumer closed")
                return
            }
            // Restart once the report is in and the other partition is part-way through.
            if !restarted, !reportsSeen.isEmpty, offsets[steady, default: []].count >= 20 {
                #expect(try await consumer.restartFetch(trimmed, at: low))
                restarted = true
            }
        }
        await consumer.close()

        #expect(reportsSeen.count == 1)
        #expect(reportsSeen.first?.partition == trimmed)
        #expect(reportsSeen.first?.offset == 0, "the report names the offset that could not be fetched")
        #expect(offsets[trimmed] == Array(low..<high), "partition 0 resumes exactly at the low watermark")
        #expect(offsets[steady] == Array(0..<100), "partition 1: nothing skipped, nothing twice")
    }

    @Test("a stored offset beyond the log end is reported too")
    func beyondTheEnd() async throws {
        let fixture = try MockFixture(brokers: 1, partitions: 1)
        let partition = TopicPartition(topic: fixture.topic, partition: 0)
        let producer = try fixture.producer()
        _ = try await produceAll(producer, (0..<10).map { ProducerMessage(topic: fixture.topic, partition: 0, value: Array("m\($0)".utf8)) })
        await producer.close()

        let consumer = try consumer(fixture, start: [partition: 50], strategy: "range")
        try consumer.subscribe([fixture.topic])
        guard case .offsetOutOfRange(let report) = try await consumer.nextDelivery(maxMessages: 10) else {
            Issue.record("expected an out-of-range report first")
            await consumer.close()
            return
        }
        #expect(report.partition == partition)
        #expect(report.offset == 50)
        #expect(try await consumer.restartFetch(partition, at: 0))
        var offsets: [Int64] = []
        while offsets.count < 10 {
            guard case .messages(let batch) = try await consumer.nextDelivery(maxMessages: 10) else { break }
            offsets += batch.map(\.offset)
        }
        await consumer.close()
        #expect(offsets == Array(0..<10))
    }

    @Test("a report waits behind the messages of its partition that were fetched before it")
    func reportAfterBufferedMessages() {
        let partition = TopicPartition(topic: "t", partition: 0)
        var buffer = MessageBuffer()
        buffer.append(ConsumerMessage(topic: "t", partition: 0, offset: 7, key: nil, value: [1], headers: [], timestampMilliseconds: nil))
        buffer.reportOffsetOutOfRange(OffsetOutOfRange(partition: partition, offset: 8, reason: "test"))
        #expect(buffer.popOffsetOutOfRange() == nil, "message 7 comes first")
        #expect(buffer.popDeliverable()?.offset == 7)
        #expect(buffer.popOffsetOutOfRange()?.offset == 8)
        #expect(buffer.popOffsetOutOfRange() == nil, "each report once")
    }
}
