import CRdKafka
import Logging

/// A consumer-group member over librdkafka.
///
/// Messages arrive through ``messages``, an `AsyncSequence` meant for one consuming task.
/// Offsets are the application's business: nothing counts as consumed until it calls
/// ``storeOffset(for:)`` (stored offsets are then committed in the background, or by
/// ``commit()``). A ``RebalanceListener`` supplies starting offsets and learns of revocations
/// before they complete.
///
/// Every librdkafka call that can block runs on the consumer's own dispatch queue.
public final class KafkaConsumer: Sendable {
    private let client: NativeClient
    private let configuration: ConsumerConfiguration
    private let buffer = Locked(MessageBuffer())

    /// Creates the consumer (it joins the group on ``subscribe(_:)``).
    public init(
        configuration: ConsumerConfiguration,
        rebalanceListener: (any RebalanceListener)? = nil,
        logger: Logger,
        name: String = "consumer"
    ) throws(KafkaError) {
        self.configuration = configuration
        guard configuration.kafka["group.id"].map({ !$0.isEmpty }) ?? false else {
            throw KafkaError.wrapper("group.id must be set", context: "create \(name)")
        }
        client = try NativeClient(type: RD_KAFKA_CONSUMER, configuration: configuration.kafka, logger: logger, name: name) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
        // All events (rebalances, errors, logs) are served by consumer polls.
        _ = rd_kafka_poll_set_consumer(client.pointer)
        client.context.rebalance.withLock {
            $0 = RebalanceBridge(listener: rebalanceListener) { [weak self] revoked in
                self?.buffer.withLock { $0.drop(partitionsIn: revoked) }
            }
        }
    }

    deinit {
        if !client.isDestroyed {
            _ = rd_kafka_consumer_close(client.pointer)
            client.destroy()
        }
    }

    /// Subscribes to `topics` (replacing any previous subscription).
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        guard let list = rd_kafka_topic_partition_list_new(Int32(topics.count)) else {
            throw KafkaError.wrapper("out of memory", context: "subscribe")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let err = try client.withLiveHandle(context: "subscribe") { rk in rd_kafka_subscribe(rk, list) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "subscribe to \(topics.joined(separator: ","))")
        }
    }

    /// Reads the given partitions from the given offsets without group rebalancing (for tools
    /// such as the DLQ reader). Offsets: an absolute offset, or `KafkaOffset.beginning`/`.end`.
    public func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = makeNativePartitionList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        let err = try client.withLiveHandle(context: "assign partitions") { rk in rd_kafka_assign(rk, list) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "assign partitions")
        }
    }

    /// The messages, in partition order. Ends (returns `nil`) after ``close()`` or when the
    /// consuming task is cancelled; throws only on a fatal consumer error.
    public var messages: Messages { Messages(consumer: self) }

    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = ConsumerMessage
        public typealias Failure = KafkaError
        let consumer: KafkaConsumer

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            public mutating func next() async throws(KafkaError) -> ConsumerMessage? {
                try await consumer.nextMessage()
            }
        }
    }

    /// Marks `message` as consumed: the committed position becomes `message.offset + 1`.
    public func storeOffset(for message: ConsumerMessage) throws(KafkaError) {
        try storeOffsets([message.topicPartition: message.offset + 1])
    }

    /// Stores next-offsets-to-consume per partition, for the background (or next) commit.
    public func storeOffsets(_ nextOffsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !nextOffsets.isEmpty else { return }
        guard let list = makeNativePartitionList(nextOffsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) else {
            throw KafkaError.wrapper("out of memory", context: "store offsets")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = try client.withLiveHandle(context: "store offsets") { rk in rd_kafka_offsets_store(rk, list) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "store offsets")
        }
    }

    /// Commits the stored offsets now and waits for the broker.
    public func commit() async throws(KafkaError) {
        let client = self.client
        try await client.executor.run { () throws(KafkaError) in
            guard !client.isDestroyed else { throw KafkaError.wrapper("the consumer is closed", context: "commit offsets") }
            let err = rd_kafka_commit(client.pointer, nil, 0)
            // _NO_OFFSET: nothing stored since the last commit; not an error.
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
                throw KafkaError(err, context: "commit offsets")
            }
        }
    }

    /// The group's committed offsets for `partitions` (`nil` where nothing is committed).
    public func committedOffsets(for partitions: [TopicPartition], timeoutMilliseconds: Int32 = 10_000) async throws(KafkaError) -> [TopicPartition: Int64] {
        let client = self.client
        return try await client.executor.run { () throws(KafkaError) -> [TopicPartition: Int64] in
            guard !client.isDestroyed else { throw KafkaError.wrapper("the consumer is closed", context: "committed offsets") }
            guard let list = makeNativePartitionList(partitions.map { ($0, KafkaOffset.stored) }) else {
                throw KafkaError.wrapper("out of memory", context: "committed offsets")
            }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(client.pointer, list, timeoutMilliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, context: "committed offsets")
            }
            var result: [TopicPartition: Int64] = [:]
            if let elems = list.pointee.elems {
                for index in 0..<Int(list.pointee.cnt) where elems[index].offset >= 0 {
                    let element = elems[index]
                    result[TopicPartition(topic: element.topic.map { String(cString: $0) } ?? "", partition: element.partition)] = element.offset
                }
            }
            return result
        }
    }

    /// The broker's low and high watermarks (first offset, next offset to be written) per partition.
    public func watermarks(for partitions: [TopicPartition], timeoutMilliseconds: Int32 = 10_000) async throws(KafkaError) -> [TopicPartition: (low: Int64, high: Int64)] {
        let client = self.client
        return try await client.executor.run { () throws(KafkaError) -> [TopicPartition: (low: Int64, high: Int64)] in
            guard !client.isDestroyed else { throw KafkaError.wrapper("the consumer is closed", context: "watermarks") }
            var result: [TopicPartition: (low: Int64, high: Int64)] = [:]
            for partition in partitions {
                var low: Int64 = 0
                var high: Int64 = 0
                let err = rd_kafka_query_watermark_offsets(client.pointer, partition.topic, partition.partition, &low, &high, timeoutMilliseconds)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(err, context: "watermarks of \(partition)")
                }
                result[partition] = (low, high)
            }
            return result
        }
    }

    /// Stops fetching `partitions`; their already-fetched messages are held back until ``resume(_:)``.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try pauseOrResume(partitions, pause: true)
        buffer.withLock { $0.paused.formUnion(partitions) }
    }

    /// Resumes fetching and delivering `partitions`, in order, where they stopped.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        buffer.withLock { $0.paused.subtract(partitions) }
        try pauseOrResume(partitions, pause: false)
    }

    private func pauseOrResume(_ partitions: [TopicPartition], pause: Bool) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        guard let list = makeNativePartitionList(partitions.map { ($0, KafkaOffset.stored) }) else {
            throw KafkaError.wrapper("out of memory", context: pause ? "pause" : "resume")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = try client.withLiveHandle(context: pause ? "pause partitions" : "resume partitions") { rk in
            pause ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: pause ? "pause partitions" : "resume partitions")
        }
    }

    /// The partitions currently assigned to this member.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = try client.withLiveHandle(context: "assignment") { rk in rd_kafka_assignment(rk, &list) }
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "assignment")
        }
        return [TopicPartition](native: list).sorted()
    }

    /// Leaves the group (revoking partitions through the listener and committing stored
    /// offsets) and releases the consumer. ``messages`` ends. Idempotent.
    public func close() async {
        let first = buffer.withLock { state -> Bool in
            if state.closed { return false }
            state.closed = true
            return true
        }
        guard first else { return }
        let client = self.client
        await client.executor.run {
            guard !client.isDestroyed else { return }
            let err = rd_kafka_consumer_close(client.pointer)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                client.context.logger.warning("consumer close: \(KafkaError(err, context: "close consumer"))")
            }
            client.destroy()
        }
    }

    /// Called when librdkafka reports a consumer-side error that is not tied to one message.
    public func onError(_ observer: @escaping @Sendable (KafkaError) -> Void) {
        client.context.errorObserver.withLock { $0 = observer }
    }

    /// Waits for at least one message (or close/cancellation), then returns every deliverable
    /// message already fetched, up to `maxMessages`: the unit a batch-oriented application
    /// processes in one transaction. Returns `[]` only when the consumer is closed or the task
    /// is cancelled.
    public func nextBatch(maxMessages: Int) async throws(KafkaError) -> [ConsumerMessage] {
        guard maxMessages > 0 else { return [] }
        guard let first = try await nextMessage() else { return [] }
        var batch = [first]
        buffer.withLock { buffer in
            while batch.count < maxMessages, let message = buffer.popDeliverable() {
                batch.append(message)
            }
        }
        return batch
    }

    // MARK: - Fetching

    private func nextMessage() async throws(KafkaError) -> ConsumerMessage? {
        while true {
            let (message, closed) = buffer.withLock { ($0.popDeliverable(), $0.closed) }
            if let message { return message }
            if closed || Task.isCancelled { return nil }
            try await fetchBatch()
        }
    }

    /// Polls librdkafka on the consumer's queue: waits up to the poll timeout for the first
    /// message, then drains what is ready, up to `maxBatch`, into the buffer.
    private func fetchBatch() async throws(KafkaError) {
        let maxBatch = configuration.maxBatch
        let timeout = configuration.pollTimeoutMilliseconds
        try await client.executor.run { [self] () throws(KafkaError) in
            guard !client.isDestroyed, !buffer.withLock({ $0.closed }) else { return }
            var wait = timeout
            for _ in 0..<maxBatch {
                guard let native = rd_kafka_consumer_poll(client.pointer, wait) else { return }
                wait = 0
                defer { rd_kafka_message_destroy(native) }
                if native.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    try handleMessageError(native)
                    continue
                }
                let message = ConsumerMessage(copying: native)
                buffer.withLock { $0.append(message) }
            }
        }
    }

    private func handleMessageError(_ native: UnsafeMutablePointer<rd_kafka_message_t>) throws(KafkaError) {
        let m = native.pointee
        if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let text = m.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.len), as: UTF8.self) }
        let context = topic.isEmpty ? "consume" : "consume \(topic)[\(m.partition)] at offset \(m.offset)"
        if let fatal = client.currentFatalError(context: context) {
            client.context.logger.critical("fatal consumer error: \(fatal)")
            throw fatal
        }
        let error = KafkaError(m.err, context: context, message: text)
        client.context.logger.error("consumer error: \(error)")
        let observer = client.context.errorObserver.withLock { $0 }
        observer?(error)
    }
}

/// Special offsets for ``KafkaConsumer/assign(_:)`` and rebalance listeners.
public enum KafkaOffset {
    public static let beginning: Int64 = Int64(RD_KAFKA_OFFSET_BEGINNING)
    public static let end: Int64 = Int64(RD_KAFKA_OFFSET_END)
    /// "Not set": use the committed offset.
    public static let stored: Int64 = Int64(RD_KAFKA_OFFSET_INVALID)
}

/// Messages fetched from librdkafka and not yet handed to the application.
struct MessageBuffer {
    private var items: [ConsumerMessage] = []
    private var head = 0
    var paused: Set<TopicPartition> = []
    var closed = false

    mutating func append(_ message: ConsumerMessage) {
        items.append(message)
    }

    /// The oldest message whose partition is not paused (per-partition order is kept).
    mutating func popDeliverable() -> ConsumerMessage? {
        guard head < items.count else { return nil }
        var index = head
        if !paused.isEmpty {
            while index < items.count, paused.contains(items[index].topicPartition) {
                index += 1
            }
            guard index < items.count else { return nil }
        }
        let message = items[index]
        if index == head {
            head += 1
        } else {
            items.remove(at: index)
        }
        compactIfNeeded()
        return message
    }

    mutating func drop(partitionsIn revoked: Set<TopicPartition>) {
        guard !revoked.isEmpty else { return }
        items = items[head...].filter { !revoked.contains($0.topicPartition) }
        head = 0
    }

    var count: Int { items.count - head }

    private mutating func compactIfNeeded() {
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
