import CrmsyncConfig
import DeadLetters
import Foundation
import Kafka
import Logging
import Pipeline
import Store

/// What every `dlq` command needs: the configuration, the DLQ's partitions, a reader, the store if any.
struct DeadLetterContext {
    let configuration: CrmsyncConfiguration
    let logger: Logger
    let dlqTopic: String
    let partitions: Int32
    let topicPartitions: [String: Int32]
    let sourceOfTopic: [String: String]
    let reader: TopicSnapshot.Reader
    /// The store, read-only, when one exists (for the replay ledger).
    let readStore: SQLiteStore?

    init(common: CommonOptions) async throws {
        configuration = try common.load(quietByDefault: true)
        logger = Logger(label: "crmsync.dlq")
        dlqTopic = configuration.topic(.dlq)
        let topics: [String: TopicDescription]
        do {
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(configuration.kafkaProperties), logger: logger)
            topics = try await admin.describeTopics()
            reader = try TopicSnapshot.Reader(bootstrapServers: configuration.brokers, overrides: configuration.kafka, logger: logger)
        } catch {
            throw CLIFailure.kafka("\(error)")
        }
        guard let dlq = topics[dlqTopic] else {
            throw CLIFailure.kafka("topic \(dlqTopic) does not exist on \(configuration.brokers) (run `crmsync topics apply`)")
        }
        partitions = dlq.partitions
        topicPartitions = topics.mapValues(\.partitions)
        sourceOfTopic = Stages.sources(configuration).mapValues(\.rawValue)
        do {
            readStore = try SQLiteStore.openForReading(path: configuration.store)
        } catch where error.kind == .missingStore || error.kind == .needsMigration {
            // No store, or one whose replay ledger does not exist yet: no letter was replayed.
            readStore = nil
        } catch {
            throw CLIFailure.store(error.message)
        }
    }

    /// Every record on the DLQ as of now, partition by partition.
    func scan(_ body: (ConsumerMessage) async throws -> Void) async throws {
        do {
            let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
            try await reader.scan(topic: dlqTopic, ranges: marks.mapValues { $0.low..<$0.high }, body: body)
        } catch let error as KafkaError {
            throw CLIFailure.kafka("\(error)")
        }
    }

    /// The one record at `position`, if the DLQ still has it.
    func scan(only position: LetterPosition, _ body: (ConsumerMessage) async throws -> Void) async throws {
        do {
            let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
            guard let mark = marks[position.partition], mark.low <= position.offset, position.offset < mark.high else { return }
            try await reader.scan(topic: dlqTopic, ranges: [position.partition: position.offset..<(position.offset + 1)], body: body)
        } catch let error as KafkaError {
            throw CLIFailure.kafka("\(error)")
        }
    }

    func entry(_ message: ConsumerMessage) -> DeadLetterEntry? {
        DeadLetterEntry(message: message, sourceOfTopic: sourceOfTopic)
    }

    /// Which of `entries` were replayed, by the run that last did it (empty without a store).
    func replayedLetters(_ entries: [DeadLetterEntry]) throws -> [LetterPosition: Int64] {
        guard let store = readStore else { return [:] }
        var result: [LetterPosition: Int64] = [:]
        for (partition, inPartition) in Dictionary(grouping: entries, by: \.position.partition) {
            guard let low = inPartition.map(\.position.offset).min(), let high = inPartition.map(\.position.offset).max() else { continue }
            let ledger: [Int64: ReplayedLetter]
            do {
                ledger = try store.replayedLetters(dlqTopic: dlqTopic, partition: partition, offsets: low...high)
            } catch {
                throw CLIFailure.store("\(error)")
            }
            for entry in inPartition {
                if DeadLetterReplayer.wasReplayed(entry, ledger: ledger), let replayed = ledger[entry.position.offset] {
                    result[entry.position] = replayed.runID
                }
            }
        }
        return result
    }

    func ledgerSummary(runs: Int) throws -> LedgerSummary? {
        guard let store = readStore else { return nil }
        do {
            return LedgerSummary(replayedLetters: try store.replayedLetterCount(dlqTopic: dlqTopic),
                                 runs: try store.replayRuns(limit: max(0, runs)).filter { $0.dlqTopic == dlqTopic })
        } catch {
            throw CLIFailure.store("\(error)")
        }
    }
}

struct LedgerSummary {
    var replayedLetters: Int64
    var runs: [ReplayRun]
}
