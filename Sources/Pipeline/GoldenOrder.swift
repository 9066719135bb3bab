import Kafka

/// Golden documents are versions of their key on a compacted topic: each partition must see a
/// key's versions in order, or a consumer (and compaction) ends on an older one.
enum GoldenOrder {
    /// The CloudEvents type prefix of golden documents (see `OutputRecords.golden`).
    static let typePrefix = "crmsync.golden."

    static func isGolden(_ message: ProducerMessage) -> Bool {
        message.headers.contains { $0.name == "ce_type" && ($0.value.map { String(decoding: $0, as: UTF8.self).hasPrefix(typePrefix) } ?? false) }
    }

    /// Failed golden rows a newer version of the same topic and key has overtaken in this round
    /// (delivered: not in `failed`). Re-sending one alone would land it after the newer
    /// version; it is superseded instead and counts as sent.
    static func superseded(_ records: [OutboxRecord], failed: Set<Int64>) -> Set<Int64> {
        var result = Set<Int64>()
        for record in records where failed.contains(record.id) && isGolden(record.message) {
            let overtaken = records.contains { newer in
                newer.id > record.id && !failed.contains(newer.id)
                    && newer.message.topic == record.message.topic && newer.message.key == record.message.key
            }
            if overtaken { result.insert(record.id) }
        }
        return result
    }
}
