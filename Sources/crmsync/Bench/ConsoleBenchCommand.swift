import ArgumentParser
import Bench
import CRMModel
import Console
import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Pipeline
import Store

/// `crmsync console bench`: how long the console's pages take with N golden records in the store.
struct ConsoleBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the console's pages (queue, request, record by email/id/external id, search, health) on a store of N golden records.",
        discussion: """
        Fills a scratch store: 1,000 records and some identity review requests through the real write
        stage, then bulk SQL copies of those rows in the store's real schema (synthetic: new ids,
        prefixed identifiers) up to --records, and a day of hour buckets. Then renders each page
        through the console's real route handlers in process (sign-in, session, mustache; no socket)
        --samples times and reports p50/p99 milliseconds per page. Table to standard output (or
        --json); the JSON also goes to --output-dir/console-bench.json.
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Golden records in the store (at least 1000).")
    var records: Int = 100_000

    @Option(help: "Renders per page.")
    var samples: Int = 200

    @Option(help: "Keep the filled store at this path (default: a scratch file, removed afterwards). Must not exist yet.")
    var keepStore: String?

    @Option(help: "Where console-bench.json goes.")
    var outputDir: String = "bench/results"

    @Flag(help: "Print the report as JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (1_000...10_000_000).contains(records) else { throw ValidationError("--records must be between 1000 and 10000000") }
        guard (10...100_000).contains(samples) else { throw ValidationError("--samples must be between 10 and 100000") }
        if let keepStore, FileManager.default.fileExists(atPath: keepStore) {
            throw ValidationError("--keep-store \(keepStore) exists already: give a new path")
        }
    }

    func run() async throws {
        try await reportingFailures {
            let configuration = try common.load(quietByDefault: true)
            let progress = BenchProgress()
            let path = keepStore ?? FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-console-bench-\(getpid()).sqlite").path
            defer {
                if keepStore == nil { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            }
            var logger = Logger(label: "crmsync.console-bench")
            logger.logLevel = .error
            let started = Date()
            let seeder = try BenchSeeder(configuration: configuration, storePath: path, logger: logger)
            let store = seeder.store
            _ = try seeder.seed(records: ConsoleBenchFill.templates, progress: progress, label: "console bench")
            _ = try seeder.stage.apply(try ConsoleBenchFill.namesakes(store: store, mapTopic: configuration.topic(.map), limit: ConsoleBenchFill.templates / 10))
            let templates = try store.read { try $0.recordCounts().values.reduce(0, +) }
            let copies = max(0, (records + templates - 1) / max(1, templates) - 1)
            try ConsoleBenchFill.clone(store: store, copies: copies) { copy in
                if copy % 50 == 0 || copy == copies { progress.line("console bench: copied \(copy)/\(copies) times") }
            }
            try ConsoleBenchFill.fillHourBuckets(store: store, now: Clock.system.now())
            let filled = try store.read { try $0.recordCounts().values.reduce(0, +) }
            let fillSeconds = Date().timeIntervalSince(started)
            progress.line("console bench: \(filled) live records (\(templates) through the write stage) in \(Int(fillSeconds)) s")

            let report = try await measure(store: store, configuration: configuration, logger: logger, records: filled, fillSeconds: fillSeconds)
            let data = try Self.encoder.encode(report)
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: outputDir).appendingPathComponent("console-bench.json"))
            if json {
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("console pages, \(report.records) golden records, \(report.openReviews) open reviews, \(report.samples) renders each")
                print("page".padding(toLength: 28, withPad: " ", startingAt: 0) + "  p50 ms   p99 ms   max ms  status")
                for page in report.pages {
                    print(page.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                          + String(format: "  %6.2f   %6.2f   %6.2f  %d", page.p50, page.p99, page.max, page.status))
                }
            }
        }
    }
}

struct ConsoleBenchReport: Codable {
    struct Page: Codable {
        var name: String
        var path: String
        var status: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    var records: Int
    var openReviews: Int
    var samples: Int
    var fillSeconds: Double
    var synthetic: String
    var pages: [Page]
}

extension ConsoleBenchCommand {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }
}
