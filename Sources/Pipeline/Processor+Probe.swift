import Kafka

/// What the processor's consumer can tell about itself right now (readiness and lag).
public struct ConsumerProbe: Sendable {
    /// Partitions assigned to this member.
    public var assignment: [TopicPartition]
    /// The log end (next offset to be written) per assigned partition, as last fetched (absent
    /// before the first fetch response for it).
    public var logEnds: [TopicPartition: Int64]
    /// Why the brokers did not answer, when they did not.
    public var brokerError: String?
}

extension Processor {
    /// Asks the brokers for metadata: an answer within `timeout` means they are reachable. The
    /// log ends of the assigned partitions come from librdkafka's fetch cache.
    public func probe(timeoutMilliseconds: Int32 = 1_000) async -> ConsumerProbe {
        let assignment: [TopicPartition]
        do {
            assignment = try consumer.assignment()
        } catch {
            return ConsumerProbe(assignment: [], logEnds: [:], brokerError: "\(error)")
        }
        guard !assignment.isEmpty else { return ConsumerProbe(assignment: [], logEnds: [:], brokerError: nil) }
        let logEnds = consumer.cachedLogEnds(for: assignment)
        let brokerError = await consumer.probeBrokers(timeoutMilliseconds: timeoutMilliseconds)
        return ConsumerProbe(assignment: assignment, logEnds: logEnds, brokerError: brokerError.map { "\($0)" })
    }

    /// The next offsets the store recorded for `partitions` (for lag: log end minus this).
    public func storedOffsets(for partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        try writerForProbe.storedOffsets(for: partitions)
    }

    /// Messages on the brokers not yet processed, per assigned partition: the log end minus the
    /// store's next offset (0 at least). `crmsync_consumer_lag` and the console's health page
    /// both read this. Empty before the first fetch; nil when the store cannot be read.
    public func consumerLag() async -> [TopicPartition: Int64]? {
        let probe = await probe()
        guard let stored = try? storedOffsets(for: Array(probe.logEnds.keys)) else { return nil }
        return Dictionary(uniqueKeysWithValues: probe.logEnds.map { ($0.key, max(0, $0.value - (stored[$0.key] ?? 0))) })
    }
}
