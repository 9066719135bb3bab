import Bench
import CRMModel
import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Pipeline
import Store

/// Fills a fresh store with golden records through the real write stage (in this process, no
/// Kafka), treats their outbox rows as delivered (they are history, not news), and records where the
/// store starts reading the source topics.
struct BenchSeeder {
    let store: SQLiteStore
    let stage: WriteStage
    private(set) var startOffsets: Int64 = 0

    init(configuration: CrmsyncConfiguration, storePath: String, logger: Logger) throws {
        do {
            store = try SQLiteStore(path: storePath)
        } catch {
            throw CLIFailure.store("\(error)")
        }
        var quiet = logger
        quiet.logLevel = .error
        stage = try Stages.writeStage(configuration, store: store, logger: quiet)
    }

    /// Applies one canonical CRM create per record, 2,000 per transaction; returns the seconds taken.
    func seed(records: Int, progress: BenchProgress, label: String) throws -> Double {
        guard records > 0 else { return 0 }
        let started = DispatchTime.now().uptimeNanoseconds
        var lastReport = started
        // Not a source topic: these offsets never collide with what `crmsync run` consumes.
        let topic = "crmsync.bench.seed"
        var next = 0
        while next < records {
            let end = min(records, next + 2_000)
            let batch = (next..<end).map { person in
                let message = Workload.seedMessage(person: person, topic: topic)
                return ConsumerMessage(topic: topic, partition: 0, offset: Int64(person), key: message.key, value: message.value,
                                       headers: message.headers, timestampMilliseconds: message.timestampMilliseconds)
            }
            do {
                _ = try stage.apply(batch)
                try markOutboxSent()
            } catch {
                throw CLIFailure.store("seeding the bench store failed: \(error)")
            }
            next = end
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastReport > 2_000_000_000 {
                lastReport = now
                let rate = Double(next) / (Double(now - started) / 1e9)
                progress.line("\(label) seeding: \(next)/\(records) records, \(Int(rate))/s")
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// Does what the relay does once the broker has them: delivered rows leave the outbox.
    func markOutboxSent() throws {
        while true {
            let ids = try store.read { try $0.unsentOutbox(limit: 10_000).map(\.id) }
            guard !ids.isEmpty else { return }
            try store.write { try $0.deleteDelivered(ids) }
        }
    }

    /// Records `offsets` as consumed, so `crmsync run` starts after everything already written.
    mutating func startAt(_ offsets: [TopicPartition: Int64]) throws {
        do {
            try store.write { tx in
                for (partition, next) in offsets { try tx.commitOffset(topic: partition.topic, partition: partition.partition, next: next) }
            }
        } catch {
            throw CLIFailure.store("cannot prepare the bench store: \(error)")
        }
        startOffsets = offsets.values.reduce(0, +)
    }
}
