import CRdKafka

/// Commit marks and halted partitions: a consumer that keeps its positions elsewhere (in an
/// application store) commits to Kafka only to mark the partitions as its own, and stops a
/// partition rather than skip what it cannot read.
extension KafkaConsumer {
    /// Sets the mark written with every ``commit(_:)`` and checked at every assignment from now
    /// on (call before ``subscribe(_:)``).
    public func markCommits(_ mark: CommitMark) {
        self.mark.withLock { $0 = mark }
    }

    /// Commits `nextOffsets` (next offset to consume per partition) with this consumer's mark
    /// as metadata, without waiting for the broker (a failed commit is retried by the next
    /// one). For consumers whose positions live elsewhere; `enable.auto.commit` should be off,
    /// or its commits (without metadata) would erase the mark.
    public func commit(_ nextOffsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !nextOffsets.isEmpty else { return }
        let mark = self.mark.withLock { $0?.value }
        let err = try client.withLiveHandle(context: "commit offsets") { rk in
            CommitMarks.commitAsync(rk, nextOffsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, mark: mark)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "commit offsets") }
    }

    /// Rebalance callback, before assigning (on the consumer's thread).
    func checkMarks(_ rk: OpaquePointer, startOffsets: [TopicPartition: Int64]) -> MarkVerdict? {
        guard let mark = mark.withLock({ $0 }) else { return nil }
        switch CommitMarks.check(rk, mark: mark, startOffsets: startOffsets) {
        case .success(let verdict):
            return verdict
        case .failure(let error):
            // Without the committed metadata nothing is known to be foreign: go on (the next
            // assignment checks again) rather than stop a healthy member on a broker hiccup.
            client.context.logger.warning("cannot check the commit marks of the assigned partitions: \(error)")
            return nil
        }
    }

    /// Rebalance callback, after assigning: halts the foreign partitions (reported through
    /// ``nextDelivery(maxMessages:)``), claims the others.
    func afterAssign(_ rk: OpaquePointer, _ verdict: MarkVerdict) {
        for foreign in verdict.foreign {
            client.context.logger.error("foreign commit mark: \(foreign)")
            buffer.withLock { $0.halt(foreign.partition, report: .foreignCommit(foreign)) }
        }
        Self.pauseNatively(rk, verdict.foreign.map(\.partition))
        let mark = self.mark.withLock { $0?.value }
        let err = CommitMarks.commitAsync(rk, verdict.claims, mark: mark)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            client.context.logger.warning("claiming the assigned partitions: \(KafkaError(err, context: "commit offsets"))")
        }
    }

    /// Halts the partition of an undecodable batch (on the consumer's thread, inside a poll).
    func halt(unreadable report: UnreadableBatch) {
        client.context.logger.error("unreadable record batch: \(report)")
        buffer.withLock { $0.halt(report.partition, report: .unreadable(report)) }
        _ = try? client.withLiveHandle(context: "halt") { rk in Self.pauseNatively(rk, [report.partition]) }
    }

    /// Stops librdkafka fetching `partitions` (messages already fetched are dropped by the buffer).
    private static func pauseNatively(_ rk: OpaquePointer, _ partitions: [TopicPartition]) {
        guard !partitions.isEmpty, let list = makeNativePartitionList(partitions.map { ($0, KafkaOffset.stored) }) else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_pause_partitions(rk, list)
    }
}
