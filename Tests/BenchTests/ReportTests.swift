import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@testable import Bench

@Suite struct ReportTests {
    static func point(records: Int, throughput: Double, p99: Double) -> BenchReport.ScalePoint {
        BenchReport.ScalePoint(records: records, seedSeconds: 0, events: 1_000, throughputEPS: throughput,
                               latency: [.init(rate: 1_000, published: 100, matched: 90, p50: p99 / 2, p99: p99)],
                               peakRSSMB: Double(records) / 1_000 + 50, storeBytes: 4_096, storeRecords: 10, bytesPerRecord: 409.6,
                               bytesPerEvent: 4, outcomes: ["applied": 900])
    }

    @Test func percentilesAreNearestRank() {
        var samples = LatencySamples()
        #expect(samples.percentile(50) == nil)
        for value in (1...100).reversed() { samples.add(Double(value)) }
        #expect(samples.percentile(50) == 50)
        #expect(samples.percentile(99) == 99)
        #expect(samples.percentile(100) == 100)
        #expect(samples.percentile(0) == 1)
    }

    @Test func jsonHasTheContractKeysAndTheHeadlineIsTheFirstPoint() throws {
        let report = BenchReport(points: [Self.point(records: 0, throughput: 3_000, p99: 40), Self.point(records: 100_000, throughput: 2_500, p99: 60)],
                                 ceiling: .init(consumeEPS: 100_000, storeEPS: 10_000), machine: .init(cores: 2, build: "release"))
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        for key in ["events", "throughput_eps", "latency_ms", "peak_rss_mb", "ceiling"] { #expect(object[key] != nil, "\(key)") }
        #expect(object["throughput_eps"] as? Double == 3_000)
        #expect((object["latency_ms"] as? [String: Any])?["p99"] as? Double == 40)
        #expect((object["ceiling"] as? [String: Any])?["store_eps"] as? Double == 10_000)
        #expect(object["peak_rss_mb"] as? Double == 150)
        #expect(report.ratioToCeiling == 0.3)
        let table = report.table()
        #expect(table.contains("100,000") && table.contains("30%") && table.contains("2,500"))
    }

    @Test func theChartIsWellFormedSVGWithOneBarPerPoint() throws {
        let report = BenchReport(points: [Self.point(records: 0, throughput: 3_000, p99: 40), Self.point(records: 1_000_000, throughput: 2_800, p99: 45)],
                                 ceiling: .init(consumeEPS: 1, storeEPS: 1), machine: .init(cores: 2, build: "release"))
        let svg = report.svgChart()
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "parses as XML")
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2)
        #expect(svg.contains("1,000,000 records"))
    }

    @Test func theStoreCeilingWritesEveryRow() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ceiling-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try StoreCeiling.measure(rows: 2_500, directory: directory)
        #expect(result.rows == 2_500)
        #expect(result.seconds > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "the scratch database is removed")
    }
}
