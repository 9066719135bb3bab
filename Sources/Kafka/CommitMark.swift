import CRdKafka
import Foundation

/// A consumer's mark on the offsets it commits: written as the offset-commit metadata of every
/// partition it commits, and checked on assignment. A partition whose committed metadata names
/// another mark was last committed by another application instance that keeps its own
/// positions (another store in the same group): it is reported as a ``ForeignCommit`` and not
/// fetched.
public struct CommitMark: Sendable, Hashable {
    /// The metadata string (e.g. `crmsync-store:ID`).
    public var value: String
    /// Overwrite other marks instead of reporting them (an explicit take-over): each assigned
    /// partition is committed again at its committed offset with this mark.
    public var overwriteForeign: Bool

    public init(_ value: String, overwriteForeign: Bool = false) {
        self.value = value
        self.overwriteForeign = overwriteForeign
    }
}

/// An assigned partition whose committed offset carries another consumer's ``CommitMark``.
/// The partition is halted: none of its messages is delivered.
public struct ForeignCommit: Sendable, Hashable, CustomStringConvertible {
    public var partition: TopicPartition
    /// The group's committed offset for it (negative: none).
    public var committedOffset: Int64
    /// The metadata it was committed with.
    public var foreignMark: String
    /// This consumer's own mark.
    public var ownMark: String

    public var description: String {
        "\(partition.topic) partition \(partition.partition) was committed at offset \(committedOffset) with mark \"\(foreignMark)\", not this consumer's \"\(ownMark)\""
    }
}

/// A record batch librdkafka fetched but cannot decode (CRC mismatch with `check.crcs=true`,
/// a corrupt compressed batch). librdkafka itself would log it and go on after it; the
/// consumer halts the partition instead and reports it, before any later message of it.
public struct UnreadableBatch: Sendable, Hashable, CustomStringConvertible {
    public var partition: TopicPartition
    /// The batch's first offset.
    public var offset: Int64
    public var error: KafkaError

    public var description: String {
        "\(partition.topic) partition \(partition.partition) at offset \(offset): \(error.message) (\(error.name))"
    }

    /// The librdkafka consumer errors that mean "this batch cannot be decoded".
    static func isUndecodable(_ err: rd_kafka_resp_err_t) -> Bool {
        err == RD_KAFKA_RESP_ERR__BAD_MSG || err == RD_KAFKA_RESP_ERR__BAD_COMPRESSION
    }
}

/// What a ``CommitMark`` check decided at one assignment.
struct MarkVerdict {
    /// Partitions to commit at once with the own mark (claiming them), at these offsets.
    var claims: [(TopicPartition, Int64)] = []
    var foreign: [ForeignCommit] = []
}

enum CommitMarks {
    /// Reads the group's committed offsets and metadata for `partitions` (blocking; callable
    /// from the rebalance callback) and decides which to claim and which are foreign.
    /// `startOffsets`: where each partition will start (the application's own position, or
    /// negative when it has none).
    static func check(_ rk: OpaquePointer, mark: CommitMark, startOffsets: [TopicPartition: Int64],
                      timeoutMilliseconds: Int32 = 10_000) -> Result<MarkVerdict, KafkaError> {
        let partitions = startOffsets.keys.sorted()
        guard !partitions.isEmpty else { return .success(MarkVerdict()) }
        guard let list = makeNativePartitionList(partitions.map { ($0, KafkaOffset.stored) }) else {
            return .failure(KafkaError.wrapper("out of memory", context: "committed offsets"))
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(rk, list, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return .failure(KafkaError(err, context: "committed offsets and marks"))
        }
        var verdict = MarkVerdict()
        for element in UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)) {
            let partition = TopicPartition(topic: element.topic.map { String(cString: $0) } ?? "", partition: element.partition)
            let metadata = element.metadata.map {
                String(decoding: UnsafeRawBufferPointer(start: $0, count: element.metadata_size), as: UTF8.self)
            } ?? ""
            let foreign = !metadata.isEmpty && metadata != mark.value
            if foreign, !mark.overwriteForeign {
                verdict.foreign.append(ForeignCommit(partition: partition, committedOffset: element.offset,
                                                     foreignMark: metadata, ownMark: mark.value))
                continue
            }
            // Claim where an offset is known: the application's own, else the group's.
            let start = startOffsets[partition] ?? -1
            let offset = start >= 0 ? start : element.offset
            if offset >= 0, metadata != mark.value || offset != element.offset {
                verdict.claims.append((partition, offset))
            }
        }
        return .success(verdict)
    }

    /// Commits `offsets` with `mark` as metadata, asynchronously (librdkafka copies the list).
    static func commitAsync(_ rk: OpaquePointer, _ offsets: [(TopicPartition, Int64)], mark: String?) -> rd_kafka_resp_err_t {
        guard !offsets.isEmpty else { return RD_KAFKA_RESP_ERR_NO_ERROR }
        guard let list = makeNativePartitionList(offsets) else { return RD_KAFKA_RESP_ERR__FAIL }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let mark, !mark.isEmpty {
            let bytes = Array(mark.utf8)
            for index in 0..<Int(list.pointee.cnt) {
                // librdkafka frees `metadata` with the list (rd_free is free).
                guard let buffer = malloc(bytes.count) else { return RD_KAFKA_RESP_ERR__FAIL }
                _ = memcpy(buffer, bytes, bytes.count)
                list.pointee.elems[index].metadata = buffer
                list.pointee.elems[index].metadata_size = bytes.count
            }
        }
        return rd_kafka_commit(rk, list, 1)
    }
}
