import CRdKafka

/// An error from librdkafka or from this wrapper, with librdkafka's code and text.
///
/// `kind` tells the caller what to do about it:
/// - ``Kind/retriable``: transient (broker down, timeout, queue full); try again later.
/// - ``Kind/fatal``: the client instance is unusable (e.g. the idempotent producer lost its
///   guarantees); tear it down and alarm.
/// - ``Kind/permanent``: this request will never succeed as sent (unknown topic, message too
///   large, authorization); retrying does not help, but the client is fine.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case retriable
        case fatal
        case permanent
    }

    /// librdkafka's `rd_kafka_resp_err_t` value (negative: client-side, positive: broker).
    public var code: Int32
    /// librdkafka's symbolic name, e.g. `_MSG_TIMED_OUT` or `TOPIC_AUTHORIZATION_FAILED`.
    public var name: String
    /// Human-readable text (librdkafka's, or ours with context).
    public var message: String
    public var kind: Kind
    /// What we were doing, e.g. `produce to crm.events.v1`.
    public var context: String

    public init(code: Int32, name: String, message: String, kind: Kind, context: String) {
        self.code = code
        self.name = name
        self.message = message
        self.kind = kind
        self.context = context
    }

    public var isRetriable: Bool { kind == .retriable }
    public var isFatal: Bool { kind == .fatal }

    public var description: String {
        "\(context): \(message) (\(name), \(kind.rawValue))"
    }

    /// Builds an error from a librdkafka response code, classifying it.
    init(_ err: rd_kafka_resp_err_t, context: String, message: String? = nil, fatal: Bool = false) {
        self.code = err.rawValue
        self.name = String(cString: rd_kafka_err2name(err))
        self.message = message ?? String(cString: rd_kafka_err2str(err))
        self.kind = fatal ? .fatal : KafkaError.classify(err)
        self.context = context
    }

    /// Builds an error from an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, context: String) {
        let err = rd_kafka_error_code(error)
        self.code = err.rawValue
        self.name = String(cString: rd_kafka_error_name(error))
        self.message = String(cString: rd_kafka_error_string(error))
        if rd_kafka_error_is_fatal(error) != 0 {
            self.kind = .fatal
        } else if rd_kafka_error_is_retriable(error) != 0 {
            self.kind = .retriable
        } else {
            self.kind = KafkaError.classify(err)
        }
        self.context = context
        rd_kafka_error_destroy(error)
    }

    /// An error raised by the wrapper itself (invalid use, bad configuration).
    static func wrapper(_ message: String, context: String, kind: Kind = .permanent) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, name: "_INVALID_ARG", message: message, kind: kind, context: context)
    }

    static let retriableCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__RESOLVE,
        RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__RETRY,
        RD_KAFKA_RESP_ERR__PARTITION_EOF, RD_KAFKA_RESP_ERR__OUTDATED, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
        RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    static let fatalCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
        RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, RD_KAFKA_RESP_ERR__AUTHENTICATION,
        RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    static func classify(_ err: rd_kafka_resp_err_t) -> Kind {
        if fatalCodes.contains(err.rawValue) { return .fatal }
        if retriableCodes.contains(err.rawValue) { return .retriable }
        return .permanent
    }
}

extension KafkaError {
    /// The librdkafka response code this error carries.
    public var responseCode: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: code) }
}
