import CRMModel
import DeadLetters
import Foundation
import Kafka
import Pipeline
import Store

/// Counts of letters along each axis `dlq stats` shows.
struct LetterHistogram {
    static let ageBuckets = ["<1h", "1h-1d", "1d-7d", ">=7d"]

    var total = 0
    var unreadable = 0
    var byClass: [String: Int] = [:]
    var bySource: [String: Int] = [:]
    var byStage: [String: Int] = [:]
    var byAge: [String: Int] = [:]
    var byReplayCount: [String: Int] = [:]

    mutating func add(_ entry: DeadLetterEntry, now: Timestamp) {
        let letter = entry.letter
        total += 1
        byClass[letter.error.errorClass.rawValue, default: 0] += 1
        bySource[entry.source ?? letter.originalTopic, default: 0] += 1
        byStage[letter.error.stage.rawValue, default: 0] += 1
        byReplayCount[String(letter.replayCount), default: 0] += 1
        let age = now.epochMilliseconds - letter.failedAt.epochMilliseconds
        let bucket = age < 3_600_000 ? 0 : age < 86_400_000 ? 1 : age < 7 * 86_400_000 ? 2 : 3
        byAge[Self.ageBuckets[bucket], default: 0] += 1
    }
}

// MARK: - Output

func printable(_ bytes: [UInt8]) -> String {
    if let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }) {
        return text
    }
    return "base64:" + Data(bytes).base64EncodedString()
}

func describe(options text: String) -> String {
    guard let options = try? JSONDecoder().decode(ReplayOptions.self, from: Data(text.utf8)) else { return text }
    var parts = [options.filter.summary]
    if let maxReplays = options.maxReplays { parts.append("--max-replays \(maxReplays)") }
    if options.again { parts.append("--again") }
    return parts.joined(separator: " ")
}

/// Bytes in JSON: `text` when they are valid UTF-8, `base64` always.
struct BytesJSON: Encodable {
    var text: String?
    var base64: String

    init(_ bytes: [UInt8]) {
        text = String(validating: bytes, as: UTF8.self)
        base64 = Data(bytes).base64EncodedString()
    }
}

struct LetterJSON: Encodable {
    var position: String
    var partition: Int32
    var offset: Int64
    var errorClass: String
    var stage: String
    var message: String
    var field: String?
    var source: String?
    var originalTopic: String
    var originalPartition: Int32
    var originalOffset: Int64
    var originalTimestamp: String?
    var failedAt: String
    var replayCount: Int
    var replayedByRun: Int64?
    var key: BytesJSON?
    var value: BytesJSON?
    var headers: [HeaderJSON]?

    struct HeaderJSON: Encodable {
        var name: String
        var value: BytesJSON?
    }

    init(_ entry: DeadLetterEntry, replayedByRun: Int64?, includeBytes: Bool, headers: [KafkaHeader]? = nil) {
        let letter = entry.letter
        position = entry.position.description
        partition = entry.position.partition
        offset = entry.position.offset
        errorClass = letter.error.errorClass.rawValue
        stage = letter.error.stage.rawValue
        message = letter.error.message
        field = letter.error.fieldPath
        source = entry.source
        originalTopic = letter.originalTopic
        originalPartition = letter.originalPartition
        originalOffset = letter.originalOffset
        originalTimestamp = letter.originalTimestampMilliseconds.map { Timestamp(epochMilliseconds: $0).rfc3339 }
        failedAt = letter.failedAt.rfc3339
        replayCount = letter.replayCount
        self.replayedByRun = replayedByRun
        key = letter.key.map(BytesJSON.init)
        value = includeBytes ? letter.value.map(BytesJSON.init) : nil
        self.headers = headers?.map { HeaderJSON(name: $0.name, value: $0.value.map(BytesJSON.init)) }
    }

    enum CodingKeys: String, CodingKey {
        case position, partition, offset, stage, message, field, source, key, value, headers
        case errorClass = "error_class"
        case originalTopic = "original_topic"
        case originalPartition = "original_partition"
        case originalOffset = "original_offset"
        case originalTimestamp = "original_timestamp"
        case failedAt = "failed_at"
        case replayCount = "replay_count"
        case replayedByRun = "replayed_by_run"
    }
}

struct RunJSON: Encodable {
    var id: Int64
    var actor: String
    var status: String
    var startedAt: String
    var finishedAt: String?
    var options: String
    var targetTopic: String?
    var scanned, matched, replayed, skipped: Int64
    var note: String?

    init(_ run: ReplayRun) {
        id = run.id
        actor = run.actor
        status = run.status.rawValue
        startedAt = run.startedAt.rfc3339
        finishedAt = run.finishedAt?.rfc3339
        options = run.options
        targetTopic = run.targetTopic
        scanned = run.counts.scanned
        matched = run.counts.matched
        replayed = run.counts.replayed
        skipped = run.counts.skipped
        note = run.note
    }

    enum CodingKeys: String, CodingKey {
        case id, actor, status, options, scanned, matched, replayed, skipped, note
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case targetTopic = "target_topic"
    }
}

struct StatsJSON: Encodable {
    var total: Int
    var unreadable: Int
    var byClass: [String: Int]
    var bySource: [String: Int]
    var byStage: [String: Int]
    var byAge: [String: Int]
    var byReplayCount: [String: Int]
    var replayedLetters: Int64?
    var runs: [RunJSON]?

    init(histogram: LetterHistogram, ledger: LedgerSummary?) {
        total = histogram.total
        unreadable = histogram.unreadable
        byClass = histogram.byClass
        bySource = histogram.bySource
        byStage = histogram.byStage
        byAge = histogram.byAge
        byReplayCount = histogram.byReplayCount
        replayedLetters = ledger?.replayedLetters
        runs = ledger?.runs.map(RunJSON.init)
    }

    enum CodingKeys: String, CodingKey {
        case total, unreadable, runs
        case byClass = "by_class"
        case bySource = "by_source"
        case byStage = "by_stage"
        case byAge = "by_age"
        case byReplayCount = "by_replay_count"
        case replayedLetters = "replayed_letters"
    }
}

struct ReplayReportJSON: Encodable {
    var dryRun: Bool
    var run: RunJSON?
    var scanned, matched, replayed, skipped: Int64
    var interrupted: Bool
    var wouldReplay: [LetterJSON]?
    var unreadable: [String]

    init(_ report: DeadLetterReplayer.Report, dryRun: Bool) {
        self.dryRun = dryRun
        run = report.run.map(RunJSON.init)
        scanned = report.counts.scanned
        matched = report.counts.matched
        replayed = report.counts.replayed
        skipped = report.counts.skipped
        interrupted = report.interrupted
        wouldReplay = dryRun ? report.wouldReplay.map { LetterJSON($0, replayedByRun: nil, includeBytes: false) } : nil
        unreadable = report.unreadable.map(\.description)
    }

    enum CodingKeys: String, CodingKey {
        case run, scanned, matched, replayed, skipped, interrupted, unreadable
        case dryRun = "dry_run"
        case wouldReplay = "would_replay"
    }
}
