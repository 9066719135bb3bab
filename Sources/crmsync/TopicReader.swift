import Kafka
import Logging

/// Reads a topic from the beginning up to its current end, outside any consumer group:
/// for tools that show what is on a topic (demo, DLQ listing) without disturbing the processor.
enum TopicReader {
    static func readAll(topic: String, partitions: Int32, brokers: String, kafka: [String: String], logger: Logger) async throws -> [ConsumerMessage] {
        let consumer = try KafkaConsumer(
            configuration: ConsumerConfiguration(bootstrapServers: brokers, groupID: "crmsync-reader", overrides: kafka.merging(["enable.auto.commit": "false"]) { _, new in new }),
            logger: logger, name: "reader"
        )
        let all = (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
        let marks = try await consumer.watermarks(for: all)
        let nonEmpty = all.filter { (marks[$0]?.high ?? 0) > (marks[$0]?.low ?? 0) }
        guard !nonEmpty.isEmpty else {
            await consumer.close()
            return []
        }
        try consumer.assign(Dictionary(uniqueKeysWithValues: nonEmpty.map { ($0, KafkaOffset.beginning) }))
        var remaining = Set(nonEmpty)
        var messages: [ConsumerMessage] = []
        while !remaining.isEmpty {
            let batch = try await consumer.nextBatch(maxMessages: 1_000)
            if batch.isEmpty { break }
            for message in batch {
                messages.append(message)
                if message.offset + 1 >= marks[message.topicPartition]?.high ?? 0 { remaining.remove(message.topicPartition) }
            }
        }
        await consumer.close()
        return messages
    }
}
