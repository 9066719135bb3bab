import Bench
import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Pipeline

/// `crmsync bench --writer-only`: the write stage alone, without Kafka or the relay — the
/// workload's messages applied in batches of 500 straight to a fresh store (after seeding
/// `--records`), timed around `WriteStage.apply` only. The figure to compare one change to
/// the write path by (messages per CPU-second of the process, or `perf stat -e instructions:u`
/// around the run), since it does not depend on the broker or on a child process.
struct BenchWriter {
    struct Result {
        var messages: Int
        var cpuSeconds: Double
        var wallSeconds: Double
        var outcomes: [String: Int]
    }

    let configuration: CrmsyncConfiguration
    let records: Int
    let events: Int
    let seed: UInt64
    let scratch: URL
    let logger: Logger

    func run(progress: BenchProgress) throws -> Result {
        let storePath = scratch.appendingPathComponent("writer.sqlite").path
        let seeder = try BenchSeeder(configuration: configuration, storePath: storePath, logger: logger)
        _ = try seeder.seed(records: records, progress: progress, label: "[writer]")
        var workload = Workload(seed: seed, topics: configuration.workloadTopics, existingPeople: records)
        var offsets: [String: Int64] = [:]
        let messages: [ConsumerMessage] = (0..<events).map { _ in
            let message = workload.next().message
            let offset = offsets[message.topic, default: 0]
            offsets[message.topic] = offset + 1
            return ConsumerMessage(topic: message.topic, partition: 0, offset: offset, key: message.key, value: message.value,
                                   headers: message.headers, timestampMilliseconds: message.timestampMilliseconds)
        }
        progress.line("[writer] applying \(messages.count) messages in batches of 500")
        var result = Result(messages: messages.count, cpuSeconds: 0, wallSeconds: 0, outcomes: [:])
        var start = 0
        while start < messages.count {
            let batch = Array(messages[start..<min(messages.count, start + 500)])
            let (cpu, wall) = (Self.cpuSeconds(), Date())
            let applied: BatchResult
            do {
                applied = try seeder.stage.apply(batch)
            } catch {
                throw CLIFailure.store("the write stage failed: \(error)")
            }
            result.cpuSeconds += Self.cpuSeconds() - cpu
            result.wallSeconds += Date().timeIntervalSince(wall)
            result.outcomes.merge(applied.outcomes, uniquingKeysWith: +)
            // What the relay would do meanwhile, outside the timed part.
            try seeder.markOutboxSent()
            start += batch.count
        }
        return result
    }

    private static func cpuSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
