import Logging

/// Reads a topic from the beginning up to its end offsets as of the call, outside any consumer
/// group (offsets are neither read nor committed): for tools that show what is on a topic —
/// the demo, verification in tests, DLQ listings — without disturbing the processor's group.
public enum TopicSnapshot {
    public static func read(
        topic: String,
        partitions: Int32,
        bootstrapServers: String,
        overrides: [String: String] = [:],
        logger: Logger
    ) async throws(KafkaError) -> [ConsumerMessage] {
        // assign() needs a group.id in librdkafka's config even though no group is joined.
        let settings = overrides.merging(["enable.auto.commit": "false"]) { _, new in new }
        let consumer = try KafkaConsumer(
            configuration: ConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: "crmsync-snapshot", overrides: settings),
            logger: logger, name: "snapshot"
        )
        let all = (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
        let marks: [TopicPartition: (low: Int64, high: Int64)]
        do {
            marks = try await consumer.watermarks(for: all)
        } catch {
            await consumer.close()
            throw error
        }
        var remaining = Set(all.filter { (marks[$0]?.high ?? 0) > (marks[$0]?.low ?? 0) })
        var messages: [ConsumerMessage] = []
        do {
            if !remaining.isEmpty {
                try consumer.assign(Dictionary(uniqueKeysWithValues: remaining.map { ($0, KafkaOffset.beginning) }))
            }
            while !remaining.isEmpty {
                let batch = try await consumer.nextBatch(maxMessages: 1_000)
                if batch.isEmpty { break }
                for message in batch {
                    messages.append(message)
                    if message.offset + 1 >= marks[message.topicPartition]?.high ?? 0 {
                        remaining.remove(message.topicPartition)
                    }
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return messages
    }
}
