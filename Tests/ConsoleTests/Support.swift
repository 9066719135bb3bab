@testable import Console
import CRMModel
import CrmsyncConfig
import DeadLetters
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

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A store fed through the real write stage, with the console's real routes over it (driven in
/// process by ``ConsolePages``), and every SQL statement the store ran.
final class ConsoleFixture: Sendable {
    let directory: URL
    let store: SQLiteStore
    let stage: WriteStage
    let pages: ConsolePages
    let now: Box<Timestamp>
    private let statements = Box<[String]>([])
    private let nextOffset = Box<Int64>(0)
    static let password = "rita-pass-1"

    init(now start: String = "2026-11-20T12:00:00Z", deadLetters: (any DeadLetterBrowser)? = nil, lag: [PartitionLag]? = nil,
         throttle: SignInThrottle = SignInThrottle()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let statements = self.statements
        store = try SQLiteStore(path: directory.appendingPathComponent("store.sqlite").path,
                                observingStatements: { sql in statements.mutex.withLock { $0.append(sql) } })
        let now = Box(try Timestamp(rfc3339: start))
        self.now = now
        let clock = Clock { now.value }
        var logger = Logger(label: "console-test")
        logger.logLevel = .critical
        let policy = try OwnershipPolicy.load(path: "\(repositoryRoot)/config/ownership.yml")
        stage = WriteStage(
            store: store, normalize: try NormalizeStage(defaultPhoneRegion: "US", mappingTables: try MappingTables.load(path: "\(repositoryRoot)/config/picklists.yml")),
            resolver: try IdentityResolver(policy: IdentityPolicy()), ownership: OwnershipEngine(policy: policy),
            sources: ["crm.events.v1": .crm, "map.events.v1": .map, "billing.events.v1": .billing, "product.events.v1": .product],
            topics: OutputTopics(golden: "golden.records.v1", audit: "audit.events.v1", review: "review.requests.v1", dlq: "dlq.events.v1"),
            clock: clock, logger: logger)
        var settings = ConsoleSettings()
        settings.users["rita"] = ConsoleSettings.User(name: "rita", role: .reviewer, passwordHash: try PasswordHash.make(password: Self.password))
        let stage = self.stage
        let routes = try ConsoleRoutes(settings: settings, store: store, auditTopic: "audit.events.v1", dlqTopic: "dlq.events.v1", logger: logger,
                                       now: { now.value }, deadLetters: deadLetters, consumerLag: lag.map { lag -> ConsoleRoutes.LagReader in { @Sendable in lag } },
                                       throttle: throttle) { id, decision, actor, comment in
            try stage.resolveReview(id: id, decision: decision, actor: actor, comment: comment)
        }
        pages = ConsolePages(routes: routes, logger: logger)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Applies one message per JSON document as one batch.
    @discardableResult
    func send(_ topic: String, _ documents: [String]) throws -> BatchResult {
        try stage.apply(documents.map { json in
            let offset = nextOffset.mutex.withLock { value -> Int64 in
                defer { value += 1 }
                return value
            }
            return ConsumerMessage(topic: topic, partition: 0, offset: offset, key: nil, value: Array(json.utf8), headers: [], timestampMilliseconds: nil)
        })
    }

    func signIn() async throws -> [String: String] {
        guard let cookies = try await pages.signIn("rita", Self.password).cookies else { throw FixtureError.signInFailed }
        return cookies
    }

    /// Statements run since the last call.
    func takeStatements() -> [String] {
        statements.mutex.withLock { taken in
            defer { taken = [] }
            return taken
        }
    }

    enum FixtureError: Error { case signInFailed }
}

func canonical(_ id: String, source: String, system: String, type: String = "contact.upserted", at time: String, externalID: String,
               fields: String = "{}") -> String {
    let entity = type.split(separator: ".").first.map(String.init) ?? "contact"
    return """
    {"event_id":"\(id)","source":"\(source)","system":"\(system)","type":"\(type)","occurred_at":"\(time)","entity":"\(entity)","external_id":"\(externalID)","fields":\(fields)}
    """
}

/// A value shared with @Sendable closures.
final class Box<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
}
