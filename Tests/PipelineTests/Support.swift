import Audit
import CRMModel
import Dedup
import Foundation
import Kafka
import Logging
import Normalize
import Normalizers
import Ownership
import Pipeline
import Store
import Synchronization

/// The repository root, from this file's location (for the shipped `config/` files).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A settable clock, so tests decide what "now" is.
final class TestClock: Sendable {
    private let current: Mutex<Timestamp>
    init(_ start: Timestamp) { current = Mutex(start) }
    var now: Timestamp { current.withLock { $0 } }
    func set(_ time: Timestamp) { current.withLock { $0 = time } }
    var clock: Clock { Clock { [self] in now } }
}

/// A write stage over a fresh SQLite store in a temporary directory, fed canonical JSON.
final class Harness: Sendable {
    let directory: URL
    let store: SQLiteStore
    let stage: WriteStage
    let time: TestClock
    private let nextOffset = Mutex<Int64>(0)

    init(now: String = "2026-11-20T12:00:00Z", identity: IdentityPolicy = IdentityPolicy()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("store.sqlite").path)
        time = TestClock(try Timestamp(rfc3339: now))
        let tables = try MappingTables.load(path: "\(repositoryRoot)/config/picklists.yml")
        let normalize = try NormalizeStage(defaultPhoneRegion: "US", mappingTables: tables)
        let policy = try OwnershipPolicy.load(path: "\(repositoryRoot)/config/ownership.yml")
        var logger = Logger(label: "pipeline-test")
        logger.logLevel = .critical
        stage = WriteStage(
            store: store, normalize: normalize, resolver: try IdentityResolver(policy: identity), ownership: OwnershipEngine(policy: policy),
            sources: ["crm.events.v1": .crm, "map.events.v1": .map, "billing.events.v1": .billing, "product.events.v1": .product],
            topics: OutputTopics(golden: "golden.records.v1", audit: "audit.events.v1", review: "review.requests.v1", dlq: "dlq.events.v1"),
            clock: time.clock, logger: logger)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Applies one message per JSON document, in order, as one batch.
    @discardableResult
    func send(_ topic: String, _ documents: [String]) throws -> BatchResult {
        let messages = documents.map { json in
            let offset = nextOffset.withLock { value -> Int64 in
                defer { value += 1 }
                return value
            }
            return ConsumerMessage(topic: topic, partition: 0, offset: offset, key: nil, value: Array(json.utf8),
                                   headers: [], timestampMilliseconds: nil)
        }
        return try stage.apply(messages)
    }

    func record(_ system: String, _ externalID: String, entity: Entity = .contact) throws -> GoldenRecord? {
        try store.read { reader in
            guard let id = try reader.goldenID(for: ExternalReference(system: system, id: externalID), entity: entity) else { return nil }
            return try reader.liveRecord(id)
        }
    }

    /// The audit events of one record, in chain order.
    func audit(_ goldenID: String) throws -> [AuditEvent] {
        try store.read { reader in
            try reader.auditLog(of: goldenID).map { try JSONDecoder().decode(AuditEvent.self, from: $0.value) }
        }
    }
}

/// A canonical event as JSON. `fields` is a JSON object's text.
func canonical(_ id: String, source: String, system: String, type: String, at time: String, externalID: String,
               fields: String = "{}") -> String {
    let entity = type.split(separator: ".").first.map(String.init) ?? "contact"
    return """
    {"event_id":"\(id)","source":"\(source)","system":"\(system)","type":"\(type)","occurred_at":"\(time)","entity":"\(entity)","external_id":"\(externalID)","fields":\(fields)}
    """
}
