import Bench
import CrmsyncConfig
import Foundation
import Kafka
import Logging

/// The embedded broker of a bench run, its topics, and one producer that remembers how far
/// every partition has been written (so a new store can start where the last point ended).
final class BenchCluster: Sendable {
    let cluster: MockCluster
    let configuration: CrmsyncConfiguration
    let producer: KafkaProducer
    let logger: Logger
    let definitions: [TopicDefinition]
    /// Next offset per partition, from the delivery reports.
    let written = Locked<[TopicPartition: Int64]>([:])
    let failures = Locked<[KafkaError]>([])

    /// Starts the mock cluster, creates the topics of `topics/`, and points `configuration` at it.
    init(configuration: inout CrmsyncConfiguration, logger: Logger) async throws {
        definitions = try loadTopicDefinitions(configuration)
        do {
            cluster = try MockCluster(brokers: 1, logger: logger)
            configuration.brokers = cluster.bootstrapServers
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(configuration.kafkaProperties), logger: logger)
            _ = try await TopicsApplier(admin: admin, creator: cluster).apply(definitions, dryRun: false)
            producer = try KafkaProducer(configuration: ProducerConfiguration(
                bootstrapServers: cluster.bootstrapServers,
                overrides: ["linger.ms": "2", "batch.num.messages": "2000", "queue.buffering.max.messages": "200000"]), logger: logger, name: "bench")
        } catch let error as KafkaError {
            throw CLIFailure.kafka("cannot start the embedded broker: \(error)")
        }
        self.configuration = configuration
        self.logger = logger
    }

    /// `fetch.wait.max.ms` for every consumer of the mock cluster (`crmsync run` and the bench's
    /// readers). A real broker answers a waiting fetch as soon as data arrives; librdkafka's mock
    /// cluster holds an empty fetch for the whole wait even when data arrives meanwhile
    /// (rdkafka_mock_handlers.c, "If there was no data, delay up to MaxWait"), which with the
    /// default 500 ms adds up to half a second per consumer hop that no real deployment pays.
    static let fetchWaitMilliseconds = 5

    var workloadTopics: WorkloadTopics { configuration.workloadTopics }

    func partitions(of role: TopicRole) -> [TopicPartition] {
        let count = definitions.first { $0.role == role }?.specification.partitions ?? 1
        return (0..<count).map { TopicPartition(topic: configuration.topic(role), partition: $0) }
    }

    /// Enqueues `message`; `delivered` is called once it is acknowledged.
    func send(_ message: ProducerMessage, delivered: (@Sendable () -> Void)? = nil) async throws {
        try await producer.send(message) { [written, failures] result in
            switch result {
            case .success(let report):
                let partition = TopicPartition(topic: report.topic, partition: report.partition)
                written.withLock { $0[partition] = max($0[partition] ?? 0, report.offset + 1) }
                delivered?()
            case .failure(let error):
                failures.withLock { $0.append(error) }
            }
        }
    }

    /// Waits for every enqueued message; fails if any was not delivered.
    func flush() async throws {
        let outstanding = await producer.flush(timeoutMilliseconds: 120_000)
        if outstanding > 0 { throw CLIFailure.kafka("\(outstanding) bench messages were not delivered in 2 minutes") }
        if let failure = failures.withLock({ $0.first }) { throw CLIFailure.kafka("a bench message was not delivered: \(failure)") }
    }

    /// Delivers what is outstanding and closes the producer (before the cluster goes away).
    func close() async {
        await producer.close()
    }

    /// The consume ceiling: `messages` workload messages in a topic of their own, read back as
    /// fast as our consumer wrapper goes. Messages per second from the first to the last.
    func measureConsumeCeiling(messages: Int, seed: UInt64, progress: BenchProgress) async throws -> Double {
        // Enough partitions that the sample stays far below the mock's ~5 MB per partition.
        let partitions: Int32 = Int32(max(6, min(64, messages / 5_000)))
        let topic = "crmsync.bench.ceiling"
        do {
            try cluster.createTopic(TopicSpecification(name: topic, partitions: partitions, replicationFactor: 1))
        } catch {
            throw CLIFailure.kafka("cannot create \(topic): \(error)")
        }
        var workload = Workload(seed: seed, topics: WorkloadTopics(crm: topic, map: topic, billing: topic, product: topic))
        for _ in 0..<messages {
            var message = workload.next().message
            message.topic = topic
            try await send(message)
        }
        try await flush()
        progress.line("ceiling: \(messages) messages in \(topic); consuming")
        let consumer = try KafkaConsumer(configuration: ConsumerConfiguration(
            bootstrapServers: configuration.brokers, groupID: "crmsync-bench-ceiling-\(getpid())",
            overrides: ["auto.offset.reset": "earliest", "enable.auto.commit": "false"]), logger: logger, name: "bench-ceiling")
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<partitions).map { (TopicPartition(topic: topic, partition: $0), KafkaOffset.beginning) }))
        var received = 0
        // Timed from the end of the first batch, so the group join and first fetch don't count.
        var timed: (start: UInt64, firstBatch: Int)?
        while received < messages {
            guard let batch = try await consumer.nextBatch(maxMessages: 10_000, within: .seconds(30)) else {
                throw CLIFailure.kafka("the ceiling consumer stopped receiving after \(received) of \(messages) messages")
            }
            received += batch.count
            if timed == nil { timed = (DispatchTime.now().uptimeNanoseconds, received) }
        }
        await consumer.close()
        guard let timed, received > timed.firstBatch else { return 0 }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - timed.start) / 1e9
        return seconds > 0 ? Double(received - timed.firstBatch) / seconds : 0
    }
}

extension CrmsyncConfiguration {
    /// The source topics the bench's workload writes to, under their configured names.
    var workloadTopics: WorkloadTopics {
        WorkloadTopics(crm: topic(.crm), map: topic(.map), billing: topic(.billing), product: topic(.product))
    }
}
