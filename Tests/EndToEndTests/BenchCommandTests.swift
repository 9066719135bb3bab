import Foundation
import Testing

/// `crmsync bench` end to end, small: the figures are the bench's business (never asserted
/// here), but every phase must run and the report must say what it measured.
@Suite("crmsync bench through the binary", .serialized, .timeLimit(.minutes(4)))
struct BenchCommandTests {
    @Test("a small bench over two store sizes prints the contract's JSON and writes the chart")
    func smallBench() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-bench-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try await crmsync(["bench", "--events", "400", "--records", "0,150", "--rates", "50", "--latency-seconds", "2",
                                        "--ceiling-events", "2000", "--output-dir", output.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["events"] as? Int == 400)
        #expect((report["throughput_eps"] as? Double ?? 0) > 0)
        let ceiling = try #require(report["ceiling"] as? [String: Any])
        #expect((ceiling["consume_eps"] as? Double ?? 0) > 0 && (ceiling["store_eps"] as? Double ?? 0) > 0)
        #expect((report["peak_rss_mb"] as? Double ?? 0) > 1, "the child's RSS was sampled")
        let latency = try #require(report["latency_ms"] as? [String: Any])
        #expect(latency["p50"] as? Double != nil && latency["p99"] as? Double != nil)

        let points = try #require(report["points"] as? [[String: Any]])
        #expect(points.map { $0["records"] as? Int } == [0, 150])
        for point in points {
            let outcomes = point["outcomes"] as? [String: Int] ?? [:]
            let records = point["records"] as? Int ?? 0
            // Every drained and latency message was accounted for (seeded ones count as applied),
            // and the 1% poison went to the dead-letter queue.
            #expect(outcomes.values.reduce(0, +) >= records + 400 + 100, "\(outcomes)")
            #expect((outcomes["dead_lettered"] ?? 0) > 0, "\(outcomes)")
            #expect((point["store_records"] as? Int ?? 0) > records)
            #expect((point["bytes_per_event"] as? Double ?? 0) > 0)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(files.contains { $0.hasSuffix(".json") } && files.contains { $0.hasSuffix(".svg") }, "\(files)")
        #expect(result.stderr.contains("drain:") || result.stderr.contains("drained"), "progress is shown")
    }

    @Test("bad options are usage errors, before anything starts")
    func badOptions() async throws {
        for arguments in [["--records", "ten"], ["--rates", "0"], ["--events", "5"]] {
            let result = try await crmsync(["bench"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("must be"), "\(result.stderr)")
        }
    }
}
