import Bench
import CRMModel
import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Store

/// One scale point: a fresh store holding `records` golden records, `crmsync run` over it, a
/// paced backlog of `events` messages drained, then latency at each steady rate.
struct BenchPoint {
    let index: Int
    let records: Int
    let events: Int
    let rates: [Int]
    let latencySeconds: Int
    let seed: UInt64
    let scratch: URL
    let configuration: CrmsyncConfiguration
    let logger: Logger

    /// Most messages published and not yet consumed: about 1–2 MB per source partition for
    /// the mix's ~600-byte messages, well inside the mock cluster's ~5 MB.
    static let maxBacklog: Int64 = 25_000

    func run(on cluster: BenchCluster, progress: BenchProgress) async throws -> BenchReport.ScalePoint {
        let label = "[\(records) records]"
        let storePath = scratch.appendingPathComponent("point-\(index).sqlite").path
        var seeding = try BenchSeeder(configuration: configuration, storePath: storePath, logger: logger)
        let seedSeconds = try seeding.seed(records: records, progress: progress, label: label)
        // The new store starts where the previous points left the source topics.
        let sources = Set(TopicRole.sources.map(configuration.topic))
        try seeding.startAt(cluster.written.withLock { $0 }.filter { sources.contains($0.key.topic) })
        let baseline = seeding.startOffsets

        let child = try BenchChild(configuration: configuration, storePath: storePath, groupID: "crmsync-bench-\(getpid())-\(index)",
                                   scratch: scratch, name: "run-\(index)")
        var workload = Workload(seed: seed, topics: cluster.workloadTopics, existingPeople: records)
        let drain: BenchDrain.Result
        var latencies: [BenchReport.RateLatency] = []
        do {
            drain = try await BenchDrain(cluster: cluster, child: child, baseline: baseline, label: label, progress: progress)
                .run(events: events, workload: &workload)
            for rate in rates {
                latencies.append(try await BenchLatency(cluster: cluster, child: child, label: label, progress: progress)
                    .measure(rate: rate, seconds: latencySeconds, workload: &workload))
            }
        } catch {
            // Never leave the child running behind a failed bench.
            _ = await child.stop()
            throw error
        }
        let peak = child.samplePeakRSS()
        let status = await child.stop()
        guard status == 0 else {
            throw CLIFailure.other("`crmsync run` exited with \(status) at \(label); its log \(child.logPath) ends:\n\(child.logTail())")
        }
        let size = Self.fileBytes(storePath)
        let (recordCount, outcomes) = try Self.storeSummary(storePath)
        let processed = records + workload.count
        progress.line("\(label) drained \(drain.events) at \(Int(drain.throughput)) msg/s; peak RSS \(peak / 1_048_576) MB; store \(size / 1_048_576) MB")
        return BenchReport.ScalePoint(
            records: records, seedSeconds: seedSeconds, events: drain.events, throughputEPS: drain.throughput, latency: latencies,
            peakRSSMB: Double(peak) / 1_048_576, storeBytes: size, storeRecords: recordCount,
            bytesPerRecord: recordCount > 0 ? Double(size) / Double(recordCount) : 0,
            bytesPerEvent: processed > 0 ? Double(size) / Double(processed) : 0, outcomes: outcomes)
    }

    /// The store file and its WAL, in bytes.
    static func fileBytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { sum, suffix in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0)
        }
    }

    /// Golden records (all entities) and outcome totals, as `crmsync stats` counts them.
    static func storeSummary(_ path: String) throws -> (records: Int, outcomes: [String: Int]) {
        let store = try SQLiteStore.openForReading(path: path)
        return try store.read { reader in
            let records = try reader.recordCounts().values.reduce(0, +)
            var outcomes: [String: Int] = [:]
            for count in try reader.outcomeCounts() { outcomes[count.outcome.rawValue, default: 0] += Int(count.count) }
            return (records, outcomes)
        }
    }
}
