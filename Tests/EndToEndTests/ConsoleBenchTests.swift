import Foundation
import Testing

/// `crmsync console bench` end to end, small: the timings are the bench's business (never
/// asserted), but the store must hold what was asked and every page must have rendered.
@Suite("crmsync console bench through the binary", .serialized, .timeLimit(.minutes(3)))
struct ConsoleBenchTests {
    @Test("fills a store of N records (write stage + SQL copies) and times every page, each rendered for real")
    func smallConsoleBench() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-console-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try await crmsync(["console", "bench", "--records", "3000", "--samples", "10", "--output-dir", output.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["records"] as? Int == 3000)
        #expect((report["open_reviews"] as? Int ?? 0) >= 300, "namesakes copied with their records")
        let pages = try #require(report["pages"] as? [[String: Any]])
        let names = Set(pages.compactMap { $0["name"] as? String })
        for name in ["review queue", "review request", "record by email", "record by golden id", "record by external id", "search, no match", "health"] {
            #expect(names.contains(name), "\(name) measured")
        }
        for page in pages {
            #expect(page["status"] as? Int == 200, "\(page)")
            #expect((page["p50"] as? Double ?? 0) > 0 && (page["p99"] as? Double ?? 0) >= (page["p50"] as? Double ?? 0), "\(page)")
        }
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("console-bench.json").path))
        #expect(result.stderr.contains("through the write stage"), "the report says the store is partly synthetic")
    }
}
