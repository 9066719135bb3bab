import Logging

/// Reads a topic up to its end offsets as of the call, outside any consumer group (offsets are
/// neither read nor committed): for tools that show what is on a topic — the demo, the DLQ
/// commands, verification in tests — without disturbing the processor's group.
public enum TopicSnapshot {
    /// Every record of the first `partitions` partitions of `topic`, from the beginning to the
    /// end offsets as of the call.
    public static func read(
        topic: String,
        partitions: Int32,
        bootstrapServers: String,
        overrides: [String: String] = [:],
        idleTimeout: Duration = .seconds(60),
        logger: Logger
    ) async throws -> [ConsumerMessage] {
        let reader = try Reader(bootstrapServers: bootstrapServers, overrides: overrides, logger: logger)
        var messages: [ConsumerMessage] = []
        do {
            let marks = try await reader.watermarks(topic: topic, partitions: partitions)
            let ranges = marks.mapValues { $0.low..<$0.high }
            try await reader.scan(topic: topic, ranges: ranges, idleTimeout: idleTimeout) { messages.append($0) }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return messages
    }

    /// A group-less reader: watermarks, then ordered scans of offset ranges.
    public final class Reader: Sendable {
        private let consumer: KafkaConsumer

        public init(bootstrapServers: String, overrides: [String: String] = [:], logger: Logger) throws(KafkaError) {
            // assign() needs a group.id in librdkafka's config even though no group is joined.
            // A range starting below the log start (expired) begins at the log start.
            let settings = overrides.merging(["enable.auto.commit": "false", "auto.offset.reset": "earliest"]) { _, new in new }
            consumer = try KafkaConsumer(
                configuration: ConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: "crmsync-snapshot", overrides: settings),
                logger: logger, name: "snapshot"
            )
        }

        /// Low and high watermarks of partitions `0..<partitions` of `topic`.
        public func watermarks(topic: String, partitions: Int32) async throws(KafkaError) -> [Int32: (low: Int64, high: Int64)] {
            let all = (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
            let marks = try await consumer.watermarks(for: all)
            return Dictionary(uniqueKeysWithValues: marks.map { ($0.key.partition, $0.value) })
        }

        /// Hands `body` every record of `topic` in `ranges` (per partition, `from..<to`), in
        /// offset order within each partition. Offsets below a partition's retained start are
        /// skipped (the broker no longer has them).
        ///
        /// - Throws: ``KafkaError`` (retriable) if no record arrives for `idleTimeout` while
        ///   some range is unfinished (e.g. records below the end offset were deleted),
        ///   `CancellationError` if the task is cancelled first, or whatever `body` throws.
        public func scan(
            topic: String,
            ranges: [Int32: Range<Int64>],
            idleTimeout: Duration = .seconds(60),
            body: (ConsumerMessage) async throws -> Void
        ) async throws {
            var remaining = ranges.filter { !$0.value.isEmpty }
            guard !remaining.isEmpty else { return }
            try consumer.assign(Dictionary(uniqueKeysWithValues: remaining.map {
                (TopicPartition(topic: topic, partition: $0.key), $0.value.lowerBound)
            }))
            defer { try? consumer.assign([:]) }
            while !remaining.isEmpty {
                guard let batch = try await consumer.nextBatch(maxMessages: 500, within: idleTimeout) else {
                    let waiting = remaining.sorted { $0.key < $1.key }.map { "\(topic)[\($0.key)] below \($0.value.upperBound)" }
                    throw KafkaError.wrapper("no record arrived for \(idleTimeout) while reading \(waiting.joined(separator: ", "))",
                                             context: "read \(topic)", kind: .retriable)
                }
                // Only a closed consumer or a cancelled task gets an empty batch: the ranges are
                // not finished, so say so rather than return as if they were.
                if batch.isEmpty { throw CancellationError() }
                for message in batch {
                    guard let range = remaining[message.partition], message.topic == topic else { continue }
                    if range.contains(message.offset) { try await body(message) }
                    if message.offset + 1 >= range.upperBound { remaining[message.partition] = nil }
                }
            }
        }

        /// Closes the consumer; always call it.
        public func close() async {
            await consumer.close()
        }
    }
}
