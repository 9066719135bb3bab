import Foundation
import Testing
@testable import Kafka

/// ``CommitMark``: commits carry the consumer's mark as metadata; an assigned partition carrying
/// another mark is halted and reported, unless the consumer takes it over.
@Suite("Commit marks", .timeLimit(.minutes(3)))
struct CommitMarkTests {
    func marked(_ fixture: MockFixture, group: String, _ mark: CommitMark) throws -> KafkaConsumer {
        let store = Condition(OffsetStoreListener.State())
        store.update { $0.nextOffsets = [TopicPartition(topic: fixture.topic, partition: 0): 0] }
        let consumer = try fixture.consumer(group: group, listener: OffsetStoreListener(store: store), overrides: ["enable.auto.commit": "false"])
        consumer.markCommits(mark)
        return consumer
    }

    /// Messages until `count` arrived; records an issue on any report.
    func messages(_ consumer: KafkaConsumer, count: Int) async throws -> [ConsumerMessage] {
        var received: [ConsumerMessage] = []
        while received.count < count {
            guard case .messages(let batch) = try await consumer.nextDelivery(maxMessages: 10) else {
                Issue.record("expected messages")
                return received
            }
            received += batch
        }
        return received
    }

    /// Waits (one broker round trip per check) until the group's committed offset is `offset`.
    func awaitCommitted(_ consumer: KafkaConsumer, _ partition: TopicPartition, _ offset: Int64) async throws {
        while try await consumer.committedOffsets(for: [partition])[partition] != offset {
            try await consumer.keepPolling(for: .milliseconds(50))
        }
    }

    @Test("a foreign mark halts the partition; overwriteForeign takes it over; the owner meets its own mark")
    func foreignMarks() async throws {
        let fixture = try MockFixture(brokers: 1, partitions: 1)
        let partition = TopicPartition(topic: fixture.topic, partition: 0)
        let group = "marks-\(UUID().uuidString.prefix(6))"
        let producer = try fixture.producer()
        _ = try await produceAll(producer, (0..<5).map { ProducerMessage(topic: fixture.topic, partition: 0, value: Array("m\($0)".utf8)) })
        await producer.close()

        let a = try marked(fixture, group: group, CommitMark("store-a"))
        try a.subscribe([fixture.topic])
        #expect(try await messages(a, count: 5).count == 5)
        try a.commit([partition: 5])
        try await awaitCommitted(a, partition, 5)
        await a.close()

        let b = try marked(fixture, group: group, CommitMark("store-b"))
        try b.subscribe([fixture.topic])
        guard case .foreignCommit(let report) = try await b.nextDelivery(maxMessages: 10) else {
            Issue.record("expected a foreign-commit report")
            return
        }
        #expect(report == ForeignCommit(partition: partition, committedOffset: 5, foreignMark: "store-a", ownMark: "store-b"))
        await b.close()

        // Taking over: the messages are delivered, and the partition is claimed at the own position (0).
        let adopting = try marked(fixture, group: group, CommitMark("store-b", overwriteForeign: true))
        try adopting.subscribe([fixture.topic])
        #expect(try await messages(adopting, count: 5).map(\.offset) == [0, 1, 2, 3, 4])
        try await awaitCommitted(adopting, partition, 0)
        await adopting.close()

        let again = try marked(fixture, group: group, CommitMark("store-b"))
        try again.subscribe([fixture.topic])
        #expect(try await messages(again, count: 5).count == 5, "the owner meets its own mark")
        await again.close()

        let returning = try marked(fixture, group: group, CommitMark("store-a"))
        try returning.subscribe([fixture.topic])
        guard case .foreignCommit(let second) = try await returning.nextDelivery(maxMessages: 10) else {
            Issue.record("expected a foreign-commit report for the old owner")
            return
        }
        #expect(second.foreignMark == "store-b")
        await returning.close()
    }
}
