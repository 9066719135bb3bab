import CRMModel
import Foundation
import Normalizers
import Testing

@testable import Normalize

/// Shared helpers: the fixture folder, a stage with deterministic test tables, encoding.
enum Support {
    /// `Tests/NormalizeTests/Fixtures`, found from this source file so tests need no bundle lookup.
    static let fixturesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The repository root (for `topics/schemas`).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Picklist tables for tests: small, fixed, independent of the shipped `config/picklists.yml`.
    static let tablesYAML = """
        version: 1
        picklists:
          lifecycle_stage:
            values: [subscriber, lead, mql, sql, opportunity, customer, disqualified]
            order: [subscriber, lead, mql, sql, opportunity, customer]
            map:
              hubspot:
                marketingqualifiedlead: mql
                salesqualifiedlead: sql
          lead_status:
            values: [new, open, in_progress, converted, closed]
            map:
              salesforce:
                Open - Not Contacted: open
                Working - Contacted: in_progress
                Closed - Converted: converted
          industry:
            values: [information_technology, enterprise_software, banking, other]
            map:
              salesforce:
                Technology: information_technology
              "*":
                Software: enterprise_software
          company_size:
            values: [size_1_10, size_11_50, size_51_200, size_201_500, size_501_1000, size_1001_5000,
                     size_5001_10000, size_10001_plus]
            map:
              "*":
                1-10: size_1_10
                11-50: size_11_50
                51-200: size_51_200
                201-500: size_201_500
                501-1000: size_501_1000
                1001-5000: size_1001_5000
                5001-10000: size_5001_10000
                10001+: size_10001_plus
          lead_source:
            values: [web, organic_search, other]
            map:
              salesforce:
                Web: web
          original_source:
            same_as: lead_source
          billing_status:
            values: [trialing, active, past_due, canceled, paid, payment_failed]
          country:
            values: [us, gb, de]
            map:
              "*":
                United Kingdom: gb
                United States: us
          currency:
            values: [usd, eur, gbp]
        """

    static let tables: MappingTables = {
        do {
            return try MappingTables(yaml: tablesYAML, file: "test-picklists.yml")
        } catch {
            fatalError("test tables do not parse: \(error)")
        }
    }()

    static func stage(region: String = "US", maxMessageBytes: Int = NormalizeConfiguration.defaultMaxMessageBytes) -> NormalizeStage {
        do {
            return try NormalizeStage(defaultPhoneRegion: region, mappingTables: tables, maxMessageBytes: maxMessageBytes)
        } catch {
            fatalError("stage does not initialize: \(error)")
        }
    }

    static func fixtureBytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixturesDirectory.appendingPathComponent(relativePath)))
    }

    /// Fixture file names (without `.json`) of one folder, excluding expected-output files.
    static func fixtureNames(_ folder: String) -> [String] {
        let directory = fixturesDirectory.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
            .map { String($0.dropLast(".json".count)) }
            .sorted()
    }

    static func raw(_ bytes: [UInt8], source: Source = .crm, format: String? = nil) -> RawEvent {
        RawEvent(topic: "\(source.rawValue).events.v1", key: Array("k".utf8), value: bytes,
                 headers: format.map { [(InputFormat.headerName, Array($0.utf8))] } ?? [], source: source)
    }

    static func raw(_ text: String, source: Source = .crm, format: String? = nil) -> RawEvent {
        raw(Array(text.utf8), source: source, format: format)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }()

    /// Deterministic JSON of normalized events: the golden-file format.
    static func encode(_ events: [NormalizedEvent]) throws -> String {
        String(decoding: try encoder.encode(events), as: UTF8.self) + "\n"
    }

    /// The canonical envelope bytes of an event (what a platform team would publish).
    static func envelope(_ event: CanonicalEvent) throws -> [UInt8] {
        Array(try encoder.encode(event))
    }

    /// The error of a normalization that must fail.
    static func failure(_ result: Result<[NormalizedEvent], EventError>, sourceLocation: SourceLocation = #_sourceLocation) -> EventError? {
        switch result {
        case .success(let events):
            Issue.record("expected a failure, got \(events.count) event(s)", sourceLocation: sourceLocation)
            return nil
        case .failure(let error):
            return error
        }
    }

    static func success(_ result: Result<[NormalizedEvent], EventError>, sourceLocation: SourceLocation = #_sourceLocation) -> [NormalizedEvent] {
        switch result {
        case .success(let events):
            return events
        case .failure(let error):
            Issue.record("expected success, got \(error)", sourceLocation: sourceLocation)
            return []
        }
    }
}
