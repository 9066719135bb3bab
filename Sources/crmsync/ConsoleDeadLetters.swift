import Console
import CrmsyncConfig
import DeadLetters
import Kafka
import Logging

/// The console's dead-letter pages read the DLQ topic as `crmsync dlq list|show` do: outside
/// any consumer group, with a reader of their own per request (two pages open at once never
/// share a consumer's assignment).
struct KafkaDeadLetterBrowser: DeadLetterBrowser {
    let configuration: CrmsyncConfiguration
    let dlqTopic: String
    let sourceOfTopic: [String: String]
    let logger: Logger

    init(configuration: CrmsyncConfiguration, logger: Logger) {
        self.configuration = configuration
        dlqTopic = configuration.topic(.dlq)
        sourceOfTopic = Stages.sources(configuration).mapValues(\.rawValue)
        self.logger = logger
    }

    func letters(errorClass: String?, page: Int, pageSize: Int) async throws -> DeadLetterPage {
        try await withReader { reader, partitions in
            let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
            var ranges: [Int32: Range<Int64>] = [:]
            var truncated = false
            for (partition, mark) in marks where mark.high > mark.low {
                let from = max(mark.low, mark.high - DeadLetterPage.scanLimit)
                truncated = truncated || from > mark.low
                ranges[partition] = from..<mark.high
            }
            var scanned = 0
            var matching: [DeadLetterEntry] = []
            try await reader.scan(topic: dlqTopic, ranges: ranges, idleTimeout: .seconds(15)) { message in
                scanned += 1
                guard var entry = DeadLetterEntry(message: message, sourceOfTopic: sourceOfTopic),
                      errorClass == nil || entry.letter.error.errorClass.rawValue == errorClass else { return }
                entry.letter.value = nil  // the list shows no bytes; the letter's page reads them again
                matching.append(entry)
            }
            matching.sort { ($0.letter.failedAt, $0.position) > ($1.letter.failedAt, $1.position) }
            let start = min(matching.count, max(0, page) * pageSize)
            let end = min(matching.count, start + pageSize)
            return DeadLetterPage(entries: Array(matching[start..<end]), hasMore: end < matching.count, scanned: scanned, truncated: truncated)
        }
    }

    func letter(at position: LetterPosition) async throws -> (entry: DeadLetterEntry, headers: [KafkaHeader])? {
        try await withReader { reader, partitions in
            guard position.partition < partitions else { return nil }
            let marks = try await reader.watermarks(topic: dlqTopic, partitions: partitions)
            guard let mark = marks[position.partition], mark.low <= position.offset, position.offset < mark.high else { return nil }
            var found: (DeadLetterEntry, [KafkaHeader])?
            try await reader.scan(topic: dlqTopic, ranges: [position.partition: position.offset..<(position.offset + 1)], idleTimeout: .seconds(15)) { message in
                if let entry = DeadLetterEntry(message: message, sourceOfTopic: sourceOfTopic) { found = (entry, message.headers) }
            }
            return found
        }
    }

    private func withReader<T>(_ body: (TopicSnapshot.Reader, Int32) async throws -> T) async throws -> T {
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(configuration.kafkaProperties), logger: logger, timeoutMilliseconds: 5_000)
        guard let partitions = try await admin.describeTopics()[dlqTopic]?.partitions else {
            throw MissingTopic(description: "topic \(dlqTopic) does not exist (run `crmsync topics apply`)")
        }
        let reader = try TopicSnapshot.Reader(bootstrapServers: configuration.brokers, overrides: configuration.kafka, logger: logger)
        do {
            let result = try await body(reader, partitions)
            await reader.close()
            return result
        } catch {
            await reader.close()
            throw error
        }
    }
}

struct MissingTopic: Error, CustomStringConvertible {
    var description: String
}
