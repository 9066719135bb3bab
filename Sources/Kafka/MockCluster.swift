import CRdKafka
import Logging

/// librdkafka's in-process mock Kafka cluster (`rdkafka_mock.h`), listening on loopback.
///
/// Good for tests and `crmsync dev-broker`: it speaks the real protocol (produce, fetch,
/// consumer groups, offset commits, idempotent producer). Its limits: in memory only, about
/// 5 MB / 100k message sets per partition before it trims the head of the log, no
/// CreateTopics (use ``createTopic(_:)``), no DescribeConfigs, no offsets-for-times.
public final class MockCluster: Sendable {
    private let host: NativeClient
    private let cluster: MockClusterPointer

    /// Starts `brokers` mock brokers (ids 1...brokers) on 127.0.0.1 with random ports.
    public init(brokers: Int = 3, logger: Logger) throws(KafkaError) {
        guard brokers >= 1 else {
            throw KafkaError.wrapper("a mock cluster needs at least one broker", context: "start mock cluster")
        }
        // The cluster needs a client instance to live in; this one is never used to produce.
        // It has no bootstrap servers, so silence its "cannot connect" notice (log_level 3 = errors).
        host = try NativeClient(type: RD_KAFKA_PRODUCER, configuration: KafkaConfiguration(["log_level": "3"]), logger: logger, name: "mock-cluster")
        guard let pointer = rd_kafka_mock_cluster_new(host.pointer, Int32(brokers)) else {
            host.destroy()
            throw KafkaError.wrapper("rd_kafka_mock_cluster_new failed", context: "start mock cluster")
        }
        cluster = MockClusterPointer(pointer: pointer)
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster.pointer)
        host.destroy()
    }

    /// `host:port,...` of the mock brokers.
    public var bootstrapServers: String {
        String(cString: rd_kafka_mock_cluster_bootstraps(cluster.pointer))
    }

    /// Creates a topic through the mock API (the mock has no CreateTopics handler).
    /// Configs are accepted but not enforced: the mock ignores retention and compaction.
    public func createTopic(_ specification: TopicSpecification) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster.pointer, specification.name, specification.partitions, specification.replicationFactor)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "create mock topic \(specification.name)")
        }
    }

    /// Makes the next `errors.count` requests of `apiKey` fail with these errors, in order.
    public func pushRequestErrors(apiKey: KafkaAPIKey, errors: [Int32]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster.pointer, apiKey.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Takes a broker down (its connections are closed, new ones refused) or back up.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = up ? rd_kafka_mock_broker_set_up(cluster.pointer, id) : rd_kafka_mock_broker_set_down(cluster.pointer, id)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "set mock broker \(id) \(up ? "up" : "down")")
        }
    }

    /// Moves a partition's leadership (`-1` leaves it without a leader).
    public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_partition_set_leader(cluster.pointer, topic, partition, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "set leader of \(topic)[\(partition)]")
        }
    }

    /// Sets the group or transaction coordinator for a key.
    public func setCoordinator(type: String, key: String, broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_coordinator_set(cluster.pointer, type, key, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "set \(type) coordinator")
        }
    }
}

/// `@unchecked Sendable`: the mock cluster runs on its own thread and its public API
/// (`rd_kafka_mock_*`) is documented as callable from any thread; destroy happens once, in deinit.
private struct MockClusterPointer: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Kafka protocol API keys, for fault injection.
public struct KafkaAPIKey: Sendable, Hashable {
    public let rawValue: Int16
    public init(_ rawValue: Int16) { self.rawValue = rawValue }

    public static let produce = KafkaAPIKey(0)
    public static let fetch = KafkaAPIKey(1)
    public static let listOffsets = KafkaAPIKey(2)
    public static let metadata = KafkaAPIKey(3)
    public static let offsetCommit = KafkaAPIKey(8)
    public static let offsetFetch = KafkaAPIKey(9)
    public static let findCoordinator = KafkaAPIKey(10)
    public static let joinGroup = KafkaAPIKey(11)
    public static let heartbeat = KafkaAPIKey(12)
    public static let syncGroup = KafkaAPIKey(14)
    public static let initProducerID = KafkaAPIKey(22)
}

/// Common librdkafka error codes, for fault injection and matching without importing C.
public enum KafkaErrorCode {
    public static let noError = RD_KAFKA_RESP_ERR_NO_ERROR.rawValue
    public static let transport = RD_KAFKA_RESP_ERR__TRANSPORT.rawValue
    public static let fatal = RD_KAFKA_RESP_ERR__FATAL.rawValue
    public static let notLeaderForPartition = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue
    public static let notEnoughReplicas = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue
    public static let requestTimedOut = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
    public static let leaderNotAvailable = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue
    public static let topicAuthorizationFailed = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED.rawValue
    public static let messageTooLarge = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue
    public static let recordListTooLarge = RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE.rawValue
    public static let invalidRecord = RD_KAFKA_RESP_ERR_INVALID_RECORD.rawValue
    public static let outOfOrderSequence = RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER.rawValue
    public static let unsupportedFeature = RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE.rawValue
    public static let messageTimedOut = RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue
    public static let unknownPartition = RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION.rawValue
    public static let invalidProducerEpoch = RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH.rawValue
}
