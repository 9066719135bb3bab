import CRdKafka
import Logging

/// What a topic should look like.
public struct TopicSpecification: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    /// Topic-level configs (`cleanup.policy`, `retention.ms`, ...).
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What the cluster says a topic looks like.
public struct TopicDescription: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    /// Replicas of partition 0 (Kafka keeps the factor uniform unless reassigned by hand).
    public var replicationFactor: Int32

    public init(name: String, partitions: Int32, replicationFactor: Int32) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
    }
}

/// A topic's outcome in ``KafkaAdmin/createTopics(_:)``.
public enum TopicCreationOutcome: Sendable, Hashable {
    case created
    case alreadyExists
    case failed(KafkaError)
}

/// Cluster administration: metadata, CreateTopics, DescribeConfigs.
///
/// All calls block inside librdkafka, so they run on the admin client's own queue.
public final class KafkaAdmin: Sendable {
    private let client: NativeClient
    private let timeoutMilliseconds: Int32

    public init(configuration: KafkaConfiguration, logger: Logger, timeoutMilliseconds: Int32 = 15_000) throws(KafkaError) {
        client = try NativeClient(type: RD_KAFKA_PRODUCER, configuration: configuration, logger: logger, name: "admin")
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    deinit {
        client.destroy()
    }

    /// Every topic on the cluster (internal topics excluded), by name.
    public func describeTopics() async throws(KafkaError) -> [String: TopicDescription] {
        let client = self.client
        let timeout = timeoutMilliseconds
        return try await client.executor.run { () throws(KafkaError) -> [String: TopicDescription] in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(client.pointer, 1, nil, &metadata, timeout)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                throw KafkaError(err, context: "fetch cluster metadata")
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            var result: [String: TopicDescription] = [:]
            let md = metadata.pointee
            for index in 0..<Int(md.topic_cnt) {
                guard let topic = md.topics?[index], topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                let name = topic.topic.map { String(cString: $0) } ?? ""
                if name.hasPrefix("__") { continue }
                let replicas = topic.partition_cnt > 0 ? (topic.partitions?[0].replica_cnt ?? 0) : 0
                result[name] = TopicDescription(name: name, partitions: topic.partition_cnt, replicationFactor: replicas)
            }
            return result
        }
    }

    /// The cluster id (KIP-78), or `nil` if the cluster does not report one.
    public func clusterID() async -> String? {
        let client = self.client
        let timeout = timeoutMilliseconds
        return await client.executor.run { () -> String? in
            guard let id = rd_kafka_clusterid(client.pointer, timeout) else { return nil }
            defer { rd_kafka_mem_free(client.pointer, id) }
            return String(cString: id)
        }
    }

    /// True when the cluster is librdkafka's mock cluster, which has no CreateTopics or
    /// DescribeConfigs handlers (its cluster id is `mockCluster…`).
    public func isMockCluster() async -> Bool {
        await clusterID()?.hasPrefix("mockCluster") ?? false
    }

    /// Number of brokers in the cluster.
    public func brokerCount() async throws(KafkaError) -> Int {
        let client = self.client
        let timeout = timeoutMilliseconds
        return try await client.executor.run { () throws(KafkaError) -> Int in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(client.pointer, 0, nil, &metadata, timeout)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                throw KafkaError(err, context: "fetch cluster metadata")
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            return Int(metadata.pointee.broker_cnt)
        }
    }

    /// Creates topics with the CreateTopics API (Kafka 0.10.1+).
    ///
    /// - Throws: when the request as a whole fails, e.g. `_UNSUPPORTED_FEATURE` from a broker
    ///   without CreateTopics (librdkafka's mock cluster: use ``MockCluster/createTopic(_:)``).
    public func createTopics(_ topics: [TopicSpecification]) async throws(KafkaError) -> [String: TopicCreationOutcome] {
        guard !topics.isEmpty else { return [:] }
        let client = self.client
        let timeout = timeoutMilliseconds
        return try await client.executor.run { () throws(KafkaError) -> [String: TopicCreationOutcome] in
            var newTopics: [OpaquePointer?] = []
            defer { newTopics.forEach { if let topic = $0 { rd_kafka_NewTopic_destroy(topic) } } }
            for spec in topics {
                var errstr = [CChar](repeating: 0, count: 512)
                guard let topic = rd_kafka_NewTopic_new(spec.name, spec.partitions, spec.replicationFactor, &errstr, errstr.count) else {
                    throw KafkaError.wrapper(String(nulTerminated: errstr), context: "create topic \(spec.name)")
                }
                newTopics.append(topic)
                for (key, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
                    let err = rd_kafka_NewTopic_set_config(topic, key, value)
                    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                        throw KafkaError(err, context: "create topic \(spec.name): config \(key)")
                    }
                }
            }
            let event = try Self.adminRequest(client: client, op: RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout: timeout, context: "create topics") { options, queue in
                newTopics.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_CreateTopics(client.pointer, buffer.baseAddress, buffer.count, options, queue)
                }
            }
            defer { rd_kafka_event_destroy(event) }
            var outcomes: [String: TopicCreationOutcome] = [:]
            guard let result = rd_kafka_event_CreateTopics_result(event) else { return outcomes }
            var count = 0
            guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return outcomes }
            for index in 0..<count {
                guard let topicResult = results[index] else { continue }
                let name = String(cString: rd_kafka_topic_result_name(topicResult))
                let err = rd_kafka_topic_result_error(topicResult)
                switch err {
                case RD_KAFKA_RESP_ERR_NO_ERROR:
                    outcomes[name] = .created
                case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
                    outcomes[name] = .alreadyExists
                default:
                    let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) }
                    outcomes[name] = .failed(KafkaError(err, context: "create topic \(name)", message: text))
                }
            }
            return outcomes
        }
    }

    /// Every config of each topic (defaults included), with DescribeConfigs.
    ///
    /// - Throws: `_UNSUPPORTED_FEATURE` on brokers without DescribeConfigs (the mock cluster).
    public func describeTopicConfigs(_ topics: [String]) async throws(KafkaError) -> [String: [String: String]] {
        guard !topics.isEmpty else { return [:] }
        let client = self.client
        let timeout = timeoutMilliseconds
        return try await client.executor.run { () throws(KafkaError) -> [String: [String: String]] in
            var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
            defer { resources.forEach { if let resource = $0 { rd_kafka_ConfigResource_destroy(resource) } } }
            let event = try Self.adminRequest(client: client, op: RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout: timeout, context: "describe topic configs") { options, queue in
                resources.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_DescribeConfigs(client.pointer, buffer.baseAddress, buffer.count, options, queue)
                }
            }
            defer { rd_kafka_event_destroy(event) }
            var configs: [String: [String: String]] = [:]
            guard let result = rd_kafka_event_DescribeConfigs_result(event) else { return configs }
            var count = 0
            guard let described = rd_kafka_DescribeConfigs_result_resources(result, &count) else { return configs }
            for index in 0..<count {
                guard let resource = described[index] else { continue }
                let name = String(cString: rd_kafka_ConfigResource_name(resource))
                let err = rd_kafka_ConfigResource_error(resource)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(err, context: "describe configs of \(name)")
                }
                var entryCount = 0
                var values: [String: String] = [:]
                if let entries = rd_kafka_ConfigResource_configs(resource, &entryCount) {
                    for entryIndex in 0..<entryCount {
                        guard let entry = entries[entryIndex] else { continue }
                        let key = String(cString: rd_kafka_ConfigEntry_name(entry))
                        values[key] = rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) } ?? ""
                    }
                }
                configs[name] = values
            }
            return configs
        }
    }

    /// Sends one admin request and waits for its result event (the caller destroys it).
    private static func adminRequest(
        client: NativeClient,
        op: rd_kafka_admin_op_t,
        timeout: Int32,
        context: String,
        send: (OpaquePointer?, OpaquePointer?) -> Void
    ) throws(KafkaError) -> OpaquePointer {
        guard let queue = rd_kafka_queue_new(client.pointer) else {
            throw KafkaError.wrapper("could not create a result queue", context: context)
        }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client.pointer, op)
        defer { if let options { rd_kafka_AdminOptions_destroy(options) } }
        var errstr = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout, &errstr, errstr.count)
        send(options, queue)
        // The request times out by itself; wait a little longer than that for the event.
        guard let event = rd_kafka_queue_poll(queue, timeout + 5_000) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: context)
        }
        let err = rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) }
            rd_kafka_event_destroy(event)
            throw KafkaError(err, context: context, message: text)
        }
        return event
    }
}
