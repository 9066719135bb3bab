import CRdKafka

/// One Kafka record header. Kafka allows repeated names and null values.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// A header with a UTF-8 string value.
    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }

    /// The value decoded as UTF-8, if present.
    public var stringValue: String? {
        value.map { String(decoding: $0, as: UTF8.self) }
    }
}

extension Array where Element == KafkaHeader {
    /// The last value of the header named `name` (Kafka semantics: later wins), as UTF-8.
    public func string(_ name: String) -> String? {
        last { $0.name == name }?.stringValue
    }
}

/// A topic and partition.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A record to produce.
public struct ProducerMessage: Sendable, Hashable {
    public var topic: String
    /// `nil` lets the partitioner choose from the key.
    public var partition: Int32?
    public var key: [UInt8]?
    /// `nil` produces a tombstone (meaningful on compacted topics).
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch; `nil` means "now" (set by librdkafka).
    public var timestampMilliseconds: Int64?

    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }
}

/// Where a produced record landed.
public struct DeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}

/// A consumed record. Key, value and headers are copied out of librdkafka's buffers.
public struct ConsumerMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch (create or log-append time), if the broker has one.
    public var timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader], timestampMilliseconds: Int64?
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// Copies a message out of librdkafka (the caller still destroys `message`).
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        partition = m.partition
        offset = m.offset
        key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &timestampType)
        timestampMilliseconds = timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts
        headers = Self.copyHeaders(of: message)
    }

    private static func copyHeaders(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var native: OpaquePointer?
        guard rd_kafka_message_headers(message, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native else {
            return []
        }
        var result: [KafkaHeader] = []
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(native, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { break }
            let headerName = name.map { String(cString: $0) } ?? ""
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(name: headerName, value: bytes))
            index += 1
        }
        return result
    }
}

extension Array where Element == KafkaHeader {
    /// A native header list; librdkafka owns it once a produce call succeeds.
    func makeNativeHeaders() -> OpaquePointer? {
        guard !isEmpty, let native = rd_kafka_headers_new(count) else { return nil }
        for header in self {
            if let value = header.value {
                withNonNullBytes(value) { pointer, count in
                    _ = rd_kafka_header_add(native, header.name, -1, pointer, count)
                }
            } else {
                _ = rd_kafka_header_add(native, header.name, -1, nil, 0)
            }
        }
        return native
    }
}

/// Calls `body` with a non-NULL pointer even for an empty array: librdkafka reads a NULL
/// pointer as "null" (absent) and a non-NULL one of length 0 as "empty", and Kafka keeps
/// the two apart.
func withNonNullBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawPointer, Int) -> R) -> R {
    bytes.withUnsafeBytes { buffer in
        if let base = buffer.baseAddress, buffer.count > 0 {
            return body(base, buffer.count)
        }
        var placeholder: UInt8 = 0
        return withUnsafePointer(to: &placeholder) { body(UnsafeRawPointer($0), 0) }
    }
}
