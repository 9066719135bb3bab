import CRdKafka

/// Lets the application take part in consumer-group rebalances.
///
/// Both methods are called synchronously on the consumer's own thread, from inside librdkafka's
/// rebalance callback, **before** the change takes effect; at that moment no ``KafkaConsumer``
/// poll is running, so the application can finish or abandon work for the partitions involved.
public protocol RebalanceListener: Sendable {
    /// Partitions about to be assigned. Return the offset to start each one from (for example
    /// the offsets kept in the application's own store); partitions left out start from the
    /// group's committed offset, or per `auto.offset.reset` when there is none.
    func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64]

    /// Partitions about to be taken away. Messages of these partitions fetched but not yet
    /// handed out by the consumer have already been dropped (the next owner fetches them again).
    /// - Parameter lost: the assignment was lost (e.g. session timeout): another member may
    ///   already own these partitions, so offsets must not be committed for them.
    func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool)
}

/// What the C rebalance callback reaches through the client context.
struct RebalanceBridge: Sendable {
    let listener: (any RebalanceListener)?
    /// Drops buffered messages (and pending events) of revoked partitions.
    let dropBuffered: @Sendable (Set<TopicPartition>) -> Void
    /// Remembers where assigned partitions start (`KafkaOffset.stored` where the group's
    /// committed offset decides), for ``KafkaConsumer/restartFetch(_:at:)``.
    let assigned: @Sendable ([TopicPartition: Int64]) -> Void
    /// Before assigning: checks the consumer's ``CommitMark`` against the committed metadata
    /// (nil: no mark set, or the check failed and was logged).
    let checkMarks: @Sendable (OpaquePointer, [TopicPartition: Int64]) -> MarkVerdict?
    /// After assigning: halts foreign partitions and commits the claims.
    let afterAssign: @Sendable (OpaquePointer, MarkVerdict) -> Void
}

extension Array where Element == TopicPartition {
    /// Reads an `rd_kafka_topic_partition_list_t`.
    init(native list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        guard let list, let elems = list.pointee.elems else {
            self = []
            return
        }
        self = (0..<Int(list.pointee.cnt)).map { index in
            let element = elems[index]
            return TopicPartition(topic: element.topic.map { String(cString: $0) } ?? "", partition: element.partition)
        }
    }
}

extension Dictionary where Key == TopicPartition, Value == Int64 {
    /// Reads the offsets of an `rd_kafka_topic_partition_list_t`, leaving out partitions
    /// without one (negative: not set).
    init(offsetsOf list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self = [:]
        guard let elems = list.pointee.elems else { return }
        for index in 0..<Int(list.pointee.cnt) where elems[index].offset >= 0 {
            let element = elems[index]
            self[TopicPartition(topic: element.topic.map { String(cString: $0) } ?? "", partition: element.partition)] = element.offset
        }
    }
}

/// Builds a native partition list with the given offsets (`RD_KAFKA_OFFSET_INVALID` = not set).
func makeNativePartitionList(_ offsets: [(TopicPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t>? {
    guard let list = rd_kafka_topic_partition_list_new(Int32(offsets.count)) else { return nil }
    for (partition, offset) in offsets {
        if let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition) {
            element.pointee.offset = offset
        }
    }
    return list
}

let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { rk, err, list, _ in
    guard let rk else { return }
    let context = ClientContext.from(rk)
    let bridge = context?.rebalance.withLock { $0 }
    let partitions = [TopicPartition](native: list)
    let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) == "COOPERATIVE" } ?? false

    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        let offsets = bridge?.listener?.partitionsAssigned(partitions) ?? [:]
        var startOffsets: [TopicPartition: Int64] = [:]
        if let list, let elems = list.pointee.elems {
            for index in 0..<Int(list.pointee.cnt) {
                let partition = TopicPartition(topic: elems[index].topic.map { String(cString: $0) } ?? "", partition: elems[index].partition)
                if let offset = offsets[partition] {
                    elems[index].offset = offset
                }
                startOffsets[partition] = elems[index].offset
            }
        }
        bridge?.assigned(startOffsets)
        let verdict = bridge?.checkMarks(rk, startOffsets)
        context?.logger.info("partitions assigned", metadata: ["partitions": "\(partitions.map(\.description).joined(separator: ","))"])
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, list) {
                context?.logger.error("incremental assign failed: \(KafkaError(consuming: error, context: "rebalance"))")
            }
        } else {
            let result = rd_kafka_assign(rk, list)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                context?.logger.error("assign failed: \(KafkaError(result, context: "rebalance"))")
            }
        }
        if let verdict { bridge?.afterAssign(rk, verdict) }

    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        let lost = rd_kafka_assignment_lost(rk) != 0
        bridge?.dropBuffered(Set(partitions))
        bridge?.listener?.partitionsRevoked(partitions, lost: lost)
        context?.logger.info("partitions revoked", metadata: ["partitions": "\(partitions.map(\.description).joined(separator: ","))", "lost": "\(lost)"])
        if cooperative {
            if let error = rd_kafka_incremental_unassign(rk, list) {
                context?.logger.error("incremental unassign failed: \(KafkaError(consuming: error, context: "rebalance"))")
            }
        } else {
            _ = rd_kafka_assign(rk, nil)
        }

    default:
        context?.logger.error("rebalance error: \(KafkaError(err, context: "rebalance"))")
        bridge?.dropBuffered(Set(partitions))
        _ = rd_kafka_assign(rk, nil)
    }
}
