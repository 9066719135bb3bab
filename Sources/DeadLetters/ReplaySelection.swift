import CRMModel
import Kafka

/// Where a dead letter sits on the DLQ topic.
public struct LetterPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var partition: Int32
    public var offset: Int64

    public init(partition: Int32, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }

    /// Parses `PARTITION:OFFSET`, or a bare `OFFSET` on `defaultPartition`.
    public init?(parsing text: String, defaultPartition: Int32 = 0) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let offset = Int64(parts[0]), offset >= 0 else { return nil }
            self.init(partition: defaultPartition, offset: offset)
        case 2:
            guard let partition = Int32(parts[0]), partition >= 0, let offset = Int64(parts[1]), offset >= 0 else { return nil }
            self.init(partition: partition, offset: offset)
        default:
            return nil
        }
    }

    public static func < (lhs: LetterPosition, rhs: LetterPosition) -> Bool {
        (lhs.partition, lhs.offset) < (rhs.partition, rhs.offset)
    }

    public var description: String { "\(partition):\(offset)" }
}

/// A dead letter read back from the DLQ, with where it sits and which source it came from.
public struct DeadLetterEntry: Sendable, Hashable {
    public var position: LetterPosition
    public var letter: DeadLetter
    /// The source whose topic the letter came from (`crm`, `map`, …), `nil` for a topic that
    /// is not one of the configured source topics.
    public var source: String?

    public init(position: LetterPosition, letter: DeadLetter, source: String?) {
        self.position = position
        self.letter = letter
        self.source = source
    }

    /// Reads a record of the DLQ; `nil` if it is not a crmsync dead letter.
    /// - Parameter sourceOfTopic: the source (`crm`, …) of each source topic.
    public init?(message: ConsumerMessage, sourceOfTopic: [String: String]) {
        guard let letter = DeadLetter(letter: message) else { return nil }
        self.init(position: LetterPosition(partition: message.partition, offset: message.offset), letter: letter,
                  source: sourceOfTopic[letter.originalTopic])
    }
}

/// Which dead letters an operator means (`crmsync dlq list|stats|replay` filters). Every
/// criterion that is set must match; an empty filter matches every letter.
public struct DeadLetterFilter: Sendable, Hashable, Codable {
    /// Error classes (`crmsync.error.class` values); empty = any.
    public var errorClasses: Set<String> = []
    /// Sources (`crm`, `map`, `billing`, `product`); empty = any.
    public var sources: Set<String> = []
    /// Only letters that failed at or after this instant.
    public var since: Timestamp?
    /// Only letters that failed before this instant.
    public var until: Timestamp?
    /// Only letters whose original key is exactly these UTF-8 bytes.
    public var key: String?

    public init(errorClasses: Set<String> = [], sources: Set<String> = [], since: Timestamp? = nil, until: Timestamp? = nil, key: String? = nil) {
        self.errorClasses = errorClasses
        self.sources = sources
        self.since = since
        self.until = until
        self.key = key
    }

    public func matches(_ entry: DeadLetterEntry) -> Bool {
        let letter = entry.letter
        if !errorClasses.isEmpty, !errorClasses.contains(letter.error.errorClass.rawValue) { return false }
        if !sources.isEmpty, !sources.contains(entry.source ?? "") { return false }
        if let since, letter.failedAt < since { return false }
        if let until, !(letter.failedAt < until) { return false }
        if let key, letter.key != Array(key.utf8) { return false }
        return true
    }

    /// The filter as an operator would type it, for run records and progress lines.
    public var summary: String {
        var parts: [String] = []
        if !errorClasses.isEmpty { parts.append("class=\(errorClasses.sorted().joined(separator: ","))") }
        if !sources.isEmpty { parts.append("source=\(sources.sorted().joined(separator: ","))") }
        if let since { parts.append("since=\(since.rfc3339)") }
        if let until { parts.append("until=\(until.rfc3339)") }
        if let key { parts.append("key=\(key)") }
        return parts.isEmpty ? "all letters" : parts.joined(separator: " ")
    }
}

/// What `crmsync dlq replay` was asked to do, apart from where it publishes.
public struct ReplayOptions: Sendable, Hashable, Codable {
    public var filter: DeadLetterFilter
    /// Skip letters already replayed this many times or more (the loop guard); `nil` = no limit.
    public var maxReplays: Int?
    /// Replay letters that an earlier run replayed already.
    public var again: Bool

    public init(filter: DeadLetterFilter = DeadLetterFilter(), maxReplays: Int? = nil, again: Bool = false) {
        self.filter = filter
        self.maxReplays = maxReplays
        self.again = again
    }
}

/// The fate of one dead letter in a replay run.
public enum ReplayDecision: Sendable, Hashable {
    case replay
    /// Not selected by the filter (not counted as matched).
    case filteredOut
    /// An earlier run replayed it and `--again` was not given.
    case alreadyReplayed
    /// It has been replayed `--max-replays` times already.
    case replayLimitReached

    /// Decides what happens to `entry`; `alreadyReplayed` says whether the replay ledger has it.
    /// Pure, so the selection rules are tested without Kafka.
    public static func decide(_ entry: DeadLetterEntry, options: ReplayOptions, alreadyReplayed: Bool) -> ReplayDecision {
        guard options.filter.matches(entry) else { return .filteredOut }
        if let maxReplays = options.maxReplays, entry.letter.replayCount >= maxReplays { return .replayLimitReached }
        if alreadyReplayed, !options.again { return .alreadyReplayed }
        return .replay
    }
}

extension DeadLetter {
    /// Identifies the letter beyond its position on the DLQ: where the original record was and
    /// when it failed. The replay ledger compares it, because a recreated DLQ (or a restarted
    /// dev broker) reuses offsets for letters that were never replayed.
    public var fingerprint: String {
        "\(originalTopic)[\(originalPartition)]@\(originalOffset) failed \(failedAt.epochMilliseconds)"
    }

    /// The record a replay publishes: the original key, bytes and headers, with
    /// `crmsync.replay.count` raised by one (so a letter that fails again carries its history
    /// and `--max-replays` can stop a loop), and none of the failure's diagnostic headers.
    ///
    /// - Parameters:
    ///   - topic: the original topic, or the operator's `--to` topic.
    ///   - partition: the partition to produce to; replays to the original topic keep the
    ///     original partition so a key's events stay on one partition whatever partitioner the
    ///     source used. `nil` lets the key decide.
    public func replayRecord(topic: String, partition: Int32?) -> ProducerMessage {
        var headers = originalHeaders
        headers.append(KafkaHeader(name: DeadLetterHeader.replayCount, string: String(replayCount + 1)))
        return ProducerMessage(topic: topic, partition: partition, key: key, value: value, headers: headers)
    }
}
