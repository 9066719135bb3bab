import CRdKafka

/// A set of librdkafka properties (see librdkafka's CONFIGURATION.md), passed through unchanged.
///
/// Typed defaults live in ``ProducerConfiguration`` and ``ConsumerConfiguration``; anything
/// else can be set by name, which is how `kafka.*` keys of `crmsync.yml` reach librdkafka.
public struct KafkaConfiguration: Sendable, Hashable {
    /// Properties in the order they were set; later values replace earlier ones.
    public private(set) var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Returns a copy with `other`'s properties layered on top.
    public func merging(_ other: [String: String]) -> KafkaConfiguration {
        KafkaConfiguration(properties.merging(other) { _, new in new })
    }

    /// Checks every property with librdkafka itself (name and value), without creating a client.
    ///
    /// - Throws: ``KafkaConfigurationError`` naming the first bad property.
    public func validate() throws(KafkaConfigurationError) {
        let conf = try makeNativeConfiguration()
        rd_kafka_conf_destroy(conf)
    }

    /// Builds an `rd_kafka_conf_t`; the caller owns it.
    func makeNativeConfiguration() throws(KafkaConfigurationError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaConfigurationError(property: "", value: "", message: "rd_kafka_conf_new failed (out of memory)")
        }
        for key in properties.keys.sorted() {
            let value = properties[key] ?? ""
            var errstr = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let text = String(nulTerminated: errstr)
                throw KafkaConfigurationError(property: key, value: value, message: text)
            }
        }
        return conf
    }
}

/// A librdkafka property that librdkafka rejected (unknown name or invalid value).
public struct KafkaConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var property: String
    public var value: String
    public var message: String
    public var description: String { message }
}

/// Producer settings. The defaults make the producer idempotent: no duplicates from
/// internal retries, no reordering, `acks=all`.
public struct ProducerConfiguration: Sendable, Hashable {
    public var kafka: KafkaConfiguration
    /// How long ``KafkaProducer/close()`` waits for outstanding deliveries.
    public var flushTimeoutMilliseconds: Int32 = 30_000

    public init(bootstrapServers: String, overrides: [String: String] = [:]) {
        kafka = KafkaConfiguration([
            "bootstrap.servers": bootstrapServers,
            "enable.idempotence": "true",
            "acks": "all",
            // murmur2 matches the Java client, so keys land on the same partition whoever produces them.
            "partitioner": "murmur2_random",
            "linger.ms": "5",
            "message.timeout.ms": "300000",
        ]).merging(overrides)
    }
}

/// Consumer-group member settings. Offsets are stored only when the application says so
/// (`enable.auto.offset.store=false`); a stored offset is committed in the background.
public struct ConsumerConfiguration: Sendable, Hashable {
    public var kafka: KafkaConfiguration
    /// Most messages fetched from librdkafka per hop off the cooperative pool.
    public var maxBatch: Int = 500
    /// How long one poll blocks the consumer's own thread when nothing is ready.
    public var pollTimeoutMilliseconds: Int32 = 100

    public init(bootstrapServers: String, groupID: String, overrides: [String: String] = [:]) {
        kafka = KafkaConfiguration([
            "bootstrap.servers": bootstrapServers,
            "group.id": groupID,
            "enable.auto.offset.store": "false",
            "enable.auto.commit": "true",
            "auto.commit.interval.ms": "1000",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "false",
        ]).merging(overrides)
    }
}
