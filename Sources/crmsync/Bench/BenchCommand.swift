import ArgumentParser
import Bench
import CrmsyncConfig
import Foundation
import Kafka
import Logging

/// `crmsync bench`: throughput, latency, memory and store growth of the whole pipeline on the
/// embedded broker, with the ceilings (raw consume, raw store writes) measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the pipeline on an embedded broker: throughput, publish → audit latency, peak RSS, store bytes, and the ceiling.",
        discussion: """
        Starts librdkafka's mock cluster in this process and runs `crmsync run` (this binary) as a
        child process against it, as in production. For each --records count it fills a fresh store
        with that many golden records, drains --events source messages of a realistic mix (four
        sources, native vendor shapes and canonical envelopes, ~30% updates, duplicate sign-ups,
        redeliveries, 1% poison) and measures publish → audit-event latency at each --rates value.
        The producer is paced so the backlog stays within the mock cluster's ~5 MB per partition.
        Progress goes to standard error; the table (or --json) to standard output; the JSON and an
        SVG chart are written to --output-dir.
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Source messages drained per scale point.")
    var events: Int = 20_000

    @Option(help: "Golden records in the store before each scale point, comma-separated (e.g. 0,100000,1000000).")
    var records: String = "0"

    @Option(help: "Steady publishing rates for the latency measurement, messages/s, comma-separated.")
    var rates: String = "1000,5000"

    @Option(help: "Seconds of steady publishing per rate.")
    var latencySeconds: Int = 10

    @Option(help: "Messages consumed and rows written for the ceilings (default: --events, at most 200,000).")
    var ceilingEvents: Int?

    @Option(help: "Seed of the workload generator (the same seed publishes the same messages).")
    var seed: UInt64 = 42

    @Option(help: "Where the JSON report and the SVG chart go.")
    var outputDir: String = "bench/results"

    @Flag(help: "Print the report as JSON instead of a table.")
    var json = false

    @Flag(help: "Measure the write stage alone (no Kafka): --events messages of the mix applied to a fresh store after seeding the first --records count.")
    var writerOnly = false

    var recordCounts: [Int] { records.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var rateValues: [Int] { rates.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard (100...10_000_000).contains(events) else { throw ValidationError("--events must be between 100 and 10000000") }
        let counts = records.split(separator: ",")
        guard !counts.isEmpty, recordCounts.count == counts.count, recordCounts.allSatisfy({ (0...10_000_000).contains($0) }) else {
            throw ValidationError("--records must be comma-separated counts between 0 and 10000000, e.g. 0,100000")
        }
        let rateTexts = rates.split(separator: ",")
        guard !rateTexts.isEmpty, rateValues.count == rateTexts.count, rateValues.allSatisfy({ (1...100_000).contains($0) }) else {
            throw ValidationError("--rates must be comma-separated rates between 1 and 100000 messages/s, e.g. 1000,5000")
        }
        guard (1...600).contains(latencySeconds) else { throw ValidationError("--latency-seconds must be between 1 and 600") }
        if let ceilingEvents, !(1_000...1_000_000).contains(ceilingEvents) {
            throw ValidationError("--ceiling-events must be between 1000 and 1000000")
        }
    }

    func run() async throws {
        try await reportingFailures {
            var configuration = try common.load(quietByDefault: true)
            let logger = Logger(label: "crmsync.bench")
            let progress = BenchProgress()
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-bench-\(getpid())")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            if writerOnly {
                let writer = BenchWriter(configuration: configuration, records: recordCounts.first ?? 0, events: events, seed: seed,
                                         scratch: scratch, logger: logger)
                let result = try writer.run(progress: progress)
                let outcomes = result.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("writer: \(result.messages) messages, \(Int(Double(result.messages) / result.cpuSeconds)) per CPU-second, "
                      + "\(Int(Double(result.messages) / result.wallSeconds))/s wall in apply; outcomes: \(outcomes)")
                try? FileManager.default.removeItem(at: scratch)
                return
            }
            progress.line("bench: scratch directory \(scratch.path) (child logs, stores)")

            let cluster = try await BenchCluster(configuration: &configuration, logger: logger)
            progress.line("bench: embedded Kafka at \(configuration.brokers); topics created")

            // 1. The ceilings, on the same machine in the same run.
            let ceilingCount = ceilingEvents ?? min(events, 200_000)
            let consumeEPS = try await cluster.measureConsumeCeiling(messages: ceilingCount, seed: seed, progress: progress)
            progress.line("ceiling: consume \(Int(consumeEPS)) msg/s")
            let store = try StoreCeiling.measure(rows: ceilingCount, directory: scratch)
            progress.line("ceiling: store \(Int(store.rowsPerSecond)) rows/s")

            // 2. One scale point per record count.
            var points: [BenchReport.ScalePoint] = []
            for (index, count) in recordCounts.enumerated() {
                let point = BenchPoint(index: index, records: count, events: events, rates: rateValues, latencySeconds: latencySeconds,
                                       seed: seed &+ UInt64(index), scratch: scratch, configuration: configuration, logger: logger)
                points.append(try await point.run(on: cluster, progress: progress))
            }
            await cluster.close()

            let report = BenchReport(points: points, ceiling: .init(consumeEPS: consumeEPS, storeEPS: store.rowsPerSecond),
                                     machine: .init(cores: ProcessInfo.processInfo.activeProcessorCount, build: Self.buildKind))
            try write(report, progress: progress)
            if json {
                try printJSON(report)
            } else {
                print(report.table())
            }
            try? FileManager.default.removeItem(at: scratch)
        }
    }

    private func write(_ report: BenchReport, progress: BenchProgress) throws {
        let directory = URL(fileURLWithPath: outputDir, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let stamp = Self.timestamp()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: directory.appendingPathComponent("bench-\(stamp).json"))
            try Data(report.svgChart().utf8).write(to: directory.appendingPathComponent("bench-\(stamp).svg"))
            progress.line("bench: wrote \(directory.path)/bench-\(stamp).json and .svg")
        } catch {
            throw CLIFailure.other("cannot write the results to \(directory.path): \(error.localizedDescription)")
        }
    }

    private static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: Date())
    }

    #if DEBUG
    static let buildKind = "debug"
    #else
    static let buildKind = "release"
    #endif
}

/// Progress lines on standard error, so standard output stays the report.
struct BenchProgress: Sendable {
    func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
