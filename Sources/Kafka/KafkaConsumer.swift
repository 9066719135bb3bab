import CRdKafka
import Logging
import Dispatch

/// A consumer-group member over librdkafka.
///
/// Messages arrive through ``messages``, an `AsyncSequence` meant for one consuming task.
/// Offsets are the application's business: nothing counts as consumed until it calls
/// ``storeOffset(for:)`` (stored offsets are then committed in the background, or by
/// ``commit()``). A ``RebalanceListener`` supplies starting offsets and learns of revocations
/// before they complete.
///
/// Every librdkafka call that can block runs on the consumer's own dispatch queue.
///
/// With `auto.offset.reset=error`, a partition whose position is no longer in the log is not
/// moved silently: ``nextDelivery(maxMessages:)`` reports it as ``OffsetOutOfRange`` and the
/// partition stays stopped until the application calls ``restartFetch(_:at:)``. A record batch
/// librdkafka cannot decode halts its partition (``UnreadableBatch``) instead of being skipped,
/// and with a ``CommitMark`` a partition committed under another mark is halted at assignment.
public final class KafkaConsumer: Sendable {
    let client: NativeClient
    private let configuration: ConsumerConfiguration
    let buffer = Locked(MessageBuffer())
    /// The mark written with this consumer's commits and checked on assignment (``markCommits(_:)``).
    let mark = Locked<CommitMark?>(nil)
    /// Where each assigned partition started (as handed to librdkafka at assignment).
    private let startOffsets = Locked<[TopicPartition: Int64]>([:])

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
            $0 = RebalanceBridge(listener: rebalanceListener, dropBuffered: { [weak self] revoked in
                self?.buffer.withLock { $0.drop(partitionsIn: revoked) }
                self?.startOffsets.withLock { offsets in revoked.forEach { offsets[$0] = nil } }
            }, assigned: { [weak self] started in
                self?.startOffsets.withLock { $0.merge(started) { _, new in new } }
            }, checkMarks: { [weak self] rk, started in
                self?.checkMarks(rk, startOffsets: started)
            }, afterAssign: { [weak self] rk, verdict in
                self?.afterAssign(rk, verdict)
            })
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
    /// such as the DLQ reader), replacing any earlier assignment. Offsets: an absolute offset,
    /// or `KafkaOffset.beginning`/`.end`. Messages fetched under the earlier assignment and not
    /// yet delivered are dropped, so the next message of a partition is the one at its new offset.
    public func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = makeNativePartitionList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        let err = try client.withLiveHandle(context: "assign partitions") { rk in rd_kafka_assign(rk, list) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "assign partitions")
        }
        buffer.withLock { $0.drop(partitionsIn: $0.bufferedPartitions) }
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
            return [TopicPartition: Int64](offsetsOf: list)
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

    /// Asks any broker for cluster metadata within `timeoutMilliseconds`; nil when one answered.
    /// Runs off the consumer's executor (the poll loop goes on) and honours the timeout even when
    /// every broker is down, unlike a watermark query, whose request waits for its own timeout.
    public func probeBrokers(timeoutMilliseconds: Int32 = 1_000) async -> KafkaError? {
        let client = self.client
        return await withCheckedContinuation { (continuation: CheckedContinuation<KafkaError?, Never>) in
            DispatchQueue.global().async {
                do throws(KafkaError) {
                    try client.withLiveHandle(context: "broker probe") { (rk) throws(KafkaError) in
                        var metadata: UnsafePointer<rd_kafka_metadata>?
                        let err = rd_kafka_metadata(rk, 0, nil, &metadata, timeoutMilliseconds)
                        if let metadata { rd_kafka_metadata_destroy(metadata) }
                        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "broker probe") }
                    }
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error)
                }
            }
        }
    }

    /// The log ends (high watermarks) librdkafka last saw in fetch responses, without asking the
    /// brokers (partitions it has no figure for yet are absent). For lag gauges.
    public func cachedLogEnds(for partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        (try? client.withLiveHandle(context: "cached watermarks") { rk in
            var result: [TopicPartition: Int64] = [:]
            for partition in partitions {
                var low: Int64 = -1
                var high: Int64 = -1
                if rd_kafka_get_watermark_offsets(rk, partition.topic, partition.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 {
                    result[partition] = high
                }
            }
            return result
        }) ?? [:]
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

    /// Makes ``nextDelivery(maxMessages:)`` return ``ConsumerDelivery/closed`` once nothing is
    /// buffered (within one poll timeout when it is waiting), without leaving the group: the
    /// first step of a graceful stop, before ``close()``. Irreversible.
    public func stopDeliveries() {
        buffer.withLock { $0.stopped = true }
    }

    /// Called when librdkafka reports a consumer-side error that is not tied to one message.
    public func onError(_ observer: @escaping @Sendable (KafkaError) -> Void) {
        client.context.errorObserver.withLock { $0 = observer }
    }

    /// Waits for at least one message (or close/cancellation), then returns every deliverable
    /// message already fetched, up to `maxMessages`: the unit a batch-oriented application
    /// processes in one transaction. Returns `[]` only when the consumer is closed or the task
    /// is cancelled.
    ///
    /// ``OffsetOutOfRange`` reports are not returned here (they are logged as errors); a consumer
    /// configured with `auto.offset.reset=error` uses ``nextDelivery(maxMessages:)`` instead.
    public func nextBatch(maxMessages: Int) async throws(KafkaError) -> [ConsumerMessage] {
        while true {
            switch try await nextDelivery(maxMessages: maxMessages) {
            case .messages(let batch): return batch
            case .offsetOutOfRange(let report):
                client.context.logger.error("offset out of range: \(report); the partition stays stopped (use nextDelivery to handle it)")
            case .foreignCommit(let report):
                client.context.logger.error("foreign commit mark: \(report); the partition stays halted (use nextDelivery to handle it)")
            case .unreadable(let report):
                client.context.logger.error("unreadable record batch: \(report); the partition stays halted (use nextDelivery to handle it)")
            case .closed: return []
            }
        }
    }

    /// Like ``nextBatch(maxMessages:)``, but also hands out ``OffsetOutOfRange``, ``ForeignCommit``
    /// and ``UnreadableBatch`` reports (the last two halt their partition until it is revoked), each
    /// once and only after every message of its partition fetched before it was handed out (so
    /// an application that commits batch by batch sees the report after the partition's last
    /// good batch). Returns ``ConsumerDelivery/closed`` when the consumer is closed or the task
    /// is cancelled.
    public func nextDelivery(maxMessages: Int) async throws(KafkaError) -> ConsumerDelivery {
        guard maxMessages > 0 else { return .messages([]) }
        while true {
            let (item, closed) = buffer.withLock { buffer -> (ConsumerDelivery?, Bool) in
                if let report = buffer.popOffsetOutOfRange() { return (.offsetOutOfRange(report), buffer.closed) }
                if let halt = buffer.popHalt() { return (halt, buffer.closed) }
                guard let first = buffer.popDeliverable() else { return (nil, buffer.closed || buffer.stopped) }
                var batch = [first]
                while batch.count < maxMessages, let message = buffer.popDeliverable() {
                    batch.append(message)
                }
                return (.messages(batch), buffer.closed)
            }
            if let item { return item }
            if closed || Task.isCancelled { return .closed }
            try await fetchBatch()
        }
    }

    /// Starts fetching `partition` again, at `offset`, after librdkafka stopped it with an
    /// ``OffsetOutOfRange`` report (`auto.offset.reset=error`). A stopped partition cannot be
    /// seeked, so it is assigned anew: under the cooperative protocol alone; under the eager
    /// protocol the whole assignment is re-assigned, every other partition at the position the
    /// application has reached (after the last message handed to this consumer's buffer), so
    /// nothing is skipped or delivered twice.
    ///
    /// - Returns: false when `partition` is no longer assigned to this member (nothing done).
    @discardableResult
    public func restartFetch(_ partition: TopicPartition, at offset: Int64) async throws(KafkaError) -> Bool {
        let client = self.client
        let startOffsets = self.startOffsets
        let paused = buffer.withLock { $0.paused }
        return try await client.executor.run { () throws(KafkaError) -> Bool in
            guard !client.isDestroyed else { throw KafkaError.wrapper("the consumer is closed", context: "restart \(partition)") }
            let rk = client.pointer
            var current: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            let err = rd_kafka_assignment(rk, &current)
            defer { if let current { rd_kafka_topic_partition_list_destroy(current) } }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "assignment before restarting \(partition)") }
            let assigned = [TopicPartition](native: current)
            guard assigned.contains(partition) else { return false }
            let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) == "COOPERATIVE" } ?? false
            var offsets: [(TopicPartition, Int64)]
            if cooperative {
                guard let removal = makeNativePartitionList([(partition, KafkaOffset.stored)]) else {
                    throw KafkaError.wrapper("out of memory", context: "restart \(partition)")
                }
                defer { rd_kafka_topic_partition_list_destroy(removal) }
                if let error = rd_kafka_incremental_unassign(rk, removal) {
                    throw KafkaError(consuming: error, context: "unassign \(partition) to restart it")
                }
                offsets = [(partition, offset)]
            } else {
                // Every other partition continues where the application is.
                let positions = try Self.positions(rk, of: assigned.filter { $0 != partition })
                let started = startOffsets.withLock { $0 }
                offsets = assigned.map { assignedPartition in
                    if assignedPartition == partition { return (assignedPartition, offset) }
                    return (assignedPartition, positions[assignedPartition] ?? started[assignedPartition] ?? KafkaOffset.stored)
                }
            }
            guard let list = makeNativePartitionList(offsets) else {
                throw KafkaError.wrapper("out of memory", context: "restart \(partition)")
            }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, list) {
                    throw KafkaError(consuming: error, context: "assign \(partition) at offset \(offset)")
                }
            } else {
                let result = rd_kafka_assign(rk, list)
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(result, context: "re-assign to restart \(partition) at offset \(offset)")
                }
            }
            startOffsets.withLock { started in
                for (assignedPartition, start) in offsets { started[assignedPartition] = start }
            }
            // A new assignment starts unpaused; keep what the application paused.
            let stillPaused = paused.intersection(offsets.map(\.0))
            if !stillPaused.isEmpty, let pauseList = makeNativePartitionList(stillPaused.sorted().map { ($0, KafkaOffset.stored) }) {
                defer { rd_kafka_topic_partition_list_destroy(pauseList) }
                _ = rd_kafka_pause_partitions(rk, pauseList)
            }
            client.context.logger.notice("restarted fetching \(partition) at offset \(offset)")
            return true
        }
    }

    /// librdkafka's application positions (offset after the last message polled) where known.
    private static func positions(_ rk: OpaquePointer, of partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        guard let list = makeNativePartitionList(partitions.map { ($0, KafkaOffset.stored) }) else {
            throw KafkaError.wrapper("out of memory", context: "positions")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_position(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "positions") }
        return [TopicPartition: Int64](offsetsOf: list)
    }

    /// Like ``nextBatch(maxMessages:)``, but gives up after `timeout` without a message:
    /// returns `nil` then (and `[]` when the consumer is closed or the task cancelled).
    ///
    /// For readers whose timeout ends the reading (tools, tests): messages that arrive in the
    /// instant the timeout fires may be taken and dropped, so do not keep consuming afterwards
    /// where every message counts.
    public func nextBatch(maxMessages: Int, within timeout: Duration) async throws -> [ConsumerMessage]? {
        try await withThrowingTaskGroup(of: [ConsumerMessage]?.self) { group in
            group.addTask { try await self.nextBatch(maxMessages: maxMessages) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    // MARK: - Fetching

    private func nextMessage() async throws(KafkaError) -> ConsumerMessage? {
        let batch = try await nextBatch(maxMessages: 1)
        return batch.first
    }

    /// Keeps this member in its group for `duration` while the application cannot take messages
    /// (a transient failure, with its partitions paused): polls librdkafka — which resets the
    /// `max.poll.interval.ms` clock and serves rebalances — instead of sleeping. Whatever
    /// arrives is buffered for later (messages of paused partitions stay until resumed).
    /// Returns early when the task is cancelled.
    public func keepPolling(for duration: Duration) async throws(KafkaError) {
        let deadline = ContinuousClock.now + duration
        // At least one poll however short the wait (a jittered backoff can be ~0 ms): that poll
        // is what keeps the member in its group between two blocking write attempts.
        repeat {
            guard !Task.isCancelled, !buffer.withLock({ $0.closed }) else { return }
            try await fetchBatch()
        } while ContinuousClock.now < deadline
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
        if !topic.isEmpty, UnreadableBatch.isUndecodable(m.err) {
            // librdkafka skips the batch and goes on: halt the partition instead (never silent).
            halt(unreadable: UnreadableBatch(partition: TopicPartition(topic: topic, partition: m.partition), offset: m.offset, error: error))
            return
        }
        if !topic.isEmpty, m.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || m.err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE {
            // librdkafka stopped fetching this partition (auto.offset.reset=error): hand the
            // application a typed report; it decides where to restart.
            let report = OffsetOutOfRange(partition: TopicPartition(topic: topic, partition: m.partition), offset: m.offset, reason: text ?? error.message)
            client.context.logger.warning("offset out of range: \(report)")
            buffer.withLock { $0.reportOffsetOutOfRange(report) }
            return
        }
        client.context.logger.error("consumer error: \(error)")
        let observer = client.context.errorObserver.withLock { $0 }
        observer?(error)
    }
}

/// What ``KafkaConsumer/nextDelivery(maxMessages:)`` hands out.
public enum ConsumerDelivery: Sendable {
    /// A batch of messages (per-partition order kept).
    case messages([ConsumerMessage])
    /// A partition stopped because its position is not in the log.
    case offsetOutOfRange(OffsetOutOfRange)
    /// An assigned partition was last committed under another ``CommitMark``; it is halted.
    case foreignCommit(ForeignCommit)
    /// A record batch of a partition cannot be decoded; the partition is halted at it.
    case unreadable(UnreadableBatch)
    /// The consumer was closed or the task cancelled.
    case closed
}

/// librdkafka could not fetch a partition from its position — the offset is no longer (or not
/// yet) in the log, typically because retention removed data before it was read — and
/// `auto.offset.reset=error` forbids a silent jump. Fetching of the partition stays stopped
/// until ``KafkaConsumer/restartFetch(_:at:)``.
public struct OffsetOutOfRange: Sendable, Hashable, CustomStringConvertible {
    public var partition: TopicPartition
    /// The offset librdkafka tried to fetch from; negative when it had none (no committed
    /// offset to start from, e.g. `KafkaOffset.stored` with nothing committed).
    public var offset: Int64
    /// librdkafka's explanation.
    public var reason: String

    public init(partition: TopicPartition, offset: Int64, reason: String) {
        self.partition = partition
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(partition) at offset \(offset): \(reason)" }
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
    /// Stopped partitions not yet reported to the application.
    private var outOfRange: [OffsetOutOfRange] = []
    /// Partitions halted by a foreign commit mark or an unreadable batch, until revoked.
    private(set) var halted: Set<TopicPartition> = []
    private var haltReports: [(TopicPartition, ConsumerDelivery)] = []
    var paused: Set<TopicPartition> = []
    var closed = false
    /// ``KafkaConsumer/stopDeliveries()`` was called: deliver what is buffered, then `.closed`.
    var stopped = false

    mutating func reportOffsetOutOfRange(_ report: OffsetOutOfRange) {
        outOfRange.removeAll { $0.partition == report.partition }
        outOfRange.append(report)
    }

    /// The oldest report whose partition has no message left to hand out before it.
    mutating func popOffsetOutOfRange() -> OffsetOutOfRange? {
        guard !outOfRange.isEmpty else { return nil }
        let waiting = bufferedPartitions
        guard let index = outOfRange.firstIndex(where: { !waiting.contains($0.partition) }) else { return nil }
        return outOfRange.remove(at: index)
    }

    mutating func append(_ message: ConsumerMessage) {
        // Fetched after its partition was halted: never handed out (the partition is fetched
        // again from the application's position once it is reassigned).
        guard !halted.contains(message.topicPartition) else { return }
        items.append(message)
    }

    /// Halts `partition`: messages fetched from now on are dropped; `report` is handed out
    /// (once) after the messages buffered before it.
    mutating func halt(_ partition: TopicPartition, report: ConsumerDelivery) {
        guard halted.insert(partition).inserted else { return }
        haltReports.append((partition, report))
    }

    /// The oldest halt report whose partition has no message left to hand out before it.
    mutating func popHalt() -> ConsumerDelivery? {
        guard !haltReports.isEmpty else { return nil }
        let waiting = bufferedPartitions
        guard let index = haltReports.firstIndex(where: { !waiting.contains($0.0) }) else { return nil }
        return haltReports.remove(at: index).1
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

    /// Partitions with messages waiting in the buffer.
    var bufferedPartitions: Set<TopicPartition> { Set(items[head...].map(\.topicPartition)) }

    mutating func drop(partitionsIn revoked: Set<TopicPartition>) {
        guard !revoked.isEmpty else { return }
        outOfRange.removeAll { revoked.contains($0.partition) }
        halted.subtract(revoked)
        haltReports.removeAll { revoked.contains($0.0) }
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
