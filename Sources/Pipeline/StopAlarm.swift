import Kafka

/// Why the processor stopped on its own instead of writing: a condition no retry fixes and no
/// skip may hide. `crmsync run` logs an `ALARM` line, records the alarm in the store and exits
/// with the alarm's own code (docs/operations.md#exit-codes), so a supervisor's restart meets
/// the same alarm until an operator acts.
public enum StopAlarm: Error, Sendable, Hashable, CustomStringConvertible {
    /// An assigned partition was last committed by another store in the same consumer group
    /// (its store id is the commit metadata): two stores would each resume from their own
    /// offsets and apply the same events twice.
    case foreignStore(ForeignCommit)
    /// librdkafka cannot decode a record batch of a source partition (bad CRC, corrupt
    /// compression): nothing at or after it is applied, and its offset is not committed past.
    case unreadableBatch(UnreadableBatch)

    /// The commit-metadata mark of a store id.
    public static func mark(storeID: String) -> String { "crmsync-store:\(storeID)" }

    public var partition: TopicPartition {
        switch self {
        case .foreignStore(let report): report.partition
        case .unreadableBatch(let report): report.partition
        }
    }

    /// Where consumption of the partition stands (the group's committed offset, or the batch's first offset).
    public var offset: Int64 {
        switch self {
        case .foreignStore(let report): report.committedOffset
        case .unreadableBatch(let report): report.offset
        }
    }

    public var description: String {
        switch self {
        case .foreignStore(let report):
            "another store writes in this consumer group: \(report.partition.topic) partition \(report.partition.partition) was committed "
                + "at offset \(report.committedOffset) by \(Self.storeName(report.foreignMark)), not by this store (\(Self.storeName(report.ownMark))); "
                + "stopping without writing (one store per consumer group: stop the other run, or pass --adopt to take the group over)"
        case .unreadableBatch(let report):
            "unreadable record batch on \(report.partition.topic) partition \(report.partition.partition) at offset \(report.offset): "
                + "\(report.error.message) (\(report.error.name)); stopping before it, nothing from that offset on is applied"
        }
    }

    private static func storeName(_ mark: String) -> String {
        mark.hasPrefix("crmsync-store:") ? "store \(mark.dropFirst("crmsync-store:".count))" : "\"\(mark)\""
    }
}
