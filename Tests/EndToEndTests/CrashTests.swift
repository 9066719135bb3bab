import Audit
import Foundation
import SeededRandom
import GRDB
import Kafka
import Logging
import Testing

/// A long-running crmsync child process (`crmsync run`, `crmsync dlq replay`) whose standard
/// error lines the test can wait for.
final class ProcessorProcess: @unchecked Sendable {
    // @unchecked: set up in init, only read afterwards; LineReader is itself thread-safe.
    let process: Process
    let logLines: LineReader

    /// `crmsync run` on `brokers` and `store`, optionally with a config file.
    convenience init(brokers: String, store: String, directory: String, batchSize: Int, config: String? = nil) throws {
        try self.init(arguments: ["run", "--brokers", brokers, "--store", store, "--batch-size", String(batchSize), "--log-level", "info"]
                          + (config.map { ["--config", $0] } ?? []),
                      directory: directory)
    }

    init(arguments: [String], directory: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: crmsyncBinary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        for key in ["CRMSYNC_BROKERS", "CRMSYNC_STORE", "CRMSYNC_CONFIG"] { environment[key] = nil }
        process.environment = environment
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        logLines = LineReader(err.fileHandleForReading)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The next log line containing `text` (or any of `alternatives`); nil if the process ended first.
    func waitForLine(containing text: String, or alternatives: [String] = []) async -> String? {
        while let line = await logLines.nextLine() {
            if line.contains(text) || alternatives.contains(where: line.contains) { return line }
        }
        return nil
    }

    /// Sends `number` (if the process still runs: a reaped pid may belong to someone else) and
    /// waits for the exit status.
    func signal(_ number: Int32) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, number) }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { [process] in
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }
}

/// The generated input: a few thousand mixed events about a population of people.
struct CrashScenario {
    struct Input { let topic: String; let key: String; let value: String }
    var inputs: [Input] = []
    var malformed = 0
    var redelivered = 0

    init(people: Int, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let systems: [(topic: String, source: String, system: String)] = [
            ("crm.events.v1", "crm", "salesforce"), ("map.events.v1", "map", "hubspot"),
            ("billing.events.v1", "billing", "stripe"), ("product.events.v1", "product", "segment"),
        ]
        var eventNumber = 0
        for person in 0..<people {
            let emailVariants = ["person\(person).x@gmail.com", " Person\(person).X@Gmail.com ", "person\(person)x+promo@googlemail.com"]
            let systemCount = 1 + Int(random.next() % 4)
            for system in systems.shuffled(using: &random).prefix(systemCount) {
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    eventNumber += 1
                    let occurred = 1_767_225_600 + Int(random.next() % 2_000_000)
                    var fields: [String: Any] = ["email": emailVariants[Int(random.next() % 3)]]
                    switch system.source {
                    case "crm":
                        fields["first_name"] = "First\(person)"
                        fields["last_name"] = "Last\(person)"
                        fields["job_title"] = ["Engineer", "Director", "VP"][Int(random.next() % 3)]
                        fields["lifecycle_stage"] = ["Sales Qualified", "Customer"][Int(random.next() % 2)]
                    case "map":
                        fields["job_title"] = "Marketing-chosen title \(random.next() % 5)"
                        fields["lifecycle_stage"] = ["subscriber", "lead", "marketingqualifiedlead"][Int(random.next() % 3)]
                        fields["lead_score"] = Int(random.next() % 100)
                    case "billing":
                        fields["plan"] = ["starter", "pro", "enterprise"][Int(random.next() % 3)]
                        fields["mrr"] = Int(random.next() % 5_000)
                    default:
                        fields["last_seen_at"] = "2026-01-\(String(format: "%02d", 1 + Int(random.next() % 28)))T10:00:00Z"
                    }
                    let envelope: [String: Any] = [
                        "event_id": "\(system.system)-\(eventNumber)", "source": system.source, "system": system.system,
                        "type": "contact.upserted", "occurred_at": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(occurred))),
                        "entity": "contact", "external_id": "\(system.system)-person-\(person)", "fields": fields,
                    ]
                    let json = String(decoding: try! JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys]), as: UTF8.self)
                    let input = Input(topic: system.topic, key: "\(system.system)-person-\(person)", value: json)
                    inputs.append(input)
                    if random.next() % 20 == 0 { inputs.append(input); redelivered += 1 }   // a redelivery
                    if random.next() % 50 == 0 {                                            // a poison message
                        inputs.append(Input(topic: system.topic, key: input.key, value: String(json.prefix(json.count / 2))))
                        malformed += 1
                    }
                }
            }
        }
    }
}


@Suite("Crash safety: SIGKILL `crmsync run` at random moments", .serialized, .timeLimit(.minutes(10)))
struct CrashTests {
    let logger: Logger = {
        var logger = Logger(label: "crash-test")
        logger.logLevel = .critical
        return logger
    }()

    /// Publishes the scenario to a broker; returns the end offset per partition.
    func publish(_ scenario: CrashScenario, to brokers: String) async throws -> [String: [String: Int64]] {
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: brokers), logger: logger)
        var ends: [String: [String: Int64]] = [:]
        for input in scenario.inputs {
            let report = try await producer.send(ProducerMessage(topic: input.topic, key: Array(input.key.utf8), value: Array(input.value.utf8)))
            ends[report.topic, default: [:]][String(report.partition)] = max(ends[report.topic]?[String(report.partition)] ?? 0, report.offset + 1)
        }
        await producer.close()
        return ends
    }

    func caughtUp(store: String, directory: String, ends: [String: [String: Int64]]) async throws -> Bool {
        let offsets = try await storeStats(store, directory: directory)["offsets"] as? [String: [String: Int]] ?? [:]
        return ends.allSatisfy { topic, partitions in partitions.allSatisfy { Int64(offsets[topic]?[$0.key] ?? 0) >= $0.value } }
    }

    /// Runs until the store has consumed everything, then stops gracefully (outbox drained).
    func runToCompletion(brokers: String, store: String, directory: String, ends: [String: [String: Int64]]) async throws {
        let processor = try ProcessorProcess(brokers: brokers, store: store, directory: directory, batchSize: 10)
        while try await !caughtUp(store: store, directory: directory, ends: ends) {
            guard await processor.waitForLine(containing: "batch committed") != nil else {
                Issue.record("crmsync run ended before catching up")
                return
            }
        }
        #expect(await processor.signal(SIGTERM) == 0, "SIGTERM is a clean shutdown")
    }

    /// The live records keyed by their external ids (golden ids depend on arrival order).
    func liveRecords(_ store: String) throws -> [String: [String: NSDictionary]] {
        let queue = try DatabaseQueue(path: store)
        return try queue.read { db in
            var result: [String: [String: NSDictionary]] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.fields, r.provenance, group_concat(c.system || ':' || c.external_id, ',') AS ids
                FROM records r JOIN crosswalk c ON c.golden_id = r.id
                WHERE r.merged_into IS NULL GROUP BY r.id
                """)
            for row in rows {
                let ids = (row["ids"] as String).split(separator: ",").sorted().joined(separator: ",")
                let fields = try JSONSerialization.jsonObject(with: Data((row["fields"] as String).utf8)) as? NSDictionary ?? [:]
                let provenance = try JSONSerialization.jsonObject(with: Data((row["provenance"] as String).utf8)) as? NSDictionary ?? [:]
                result[ids] = ["fields": fields, "provenance": provenance]
            }
            return result
        }
    }

    @Test("22 SIGKILLs mid-batch and mid-relay: same store, same accounting, a gap-free verified audit chain")
    func killAndRestart() async throws {
        let scenario = CrashScenario(people: 500, seed: 20_261_125)
        #expect(scenario.inputs.count >= 2_000, "a few thousand mixed events")
        let directory = try FailureSupport.temporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Short group timers: a killed member's partitions are reassigned within seconds.
        try FailureSupport.writeConfig(in: directory)

        // Reference: one crash-free run on its own broker.
        let referenceBroker = try await DevBrokerProcess()
        let referenceEnds = try await publish(scenario, to: referenceBroker.bootstrapServers)
        let referenceStore = directory.appendingPathComponent("reference.sqlite").path
        try await runToCompletion(brokers: referenceBroker.bootstrapServers, store: referenceStore, directory: directory.path, ends: referenceEnds)

        // The same input on a second broker, processed by a run that is killed again and again.
        let crashBroker = try await DevBrokerProcess()
        let crashEnds = try await publish(scenario, to: crashBroker.bootstrapServers)
        #expect(crashEnds == referenceEnds, "same partitioning on both brokers")
        let crashStore = directory.appendingPathComponent("crash.sqlite").path
        var random = SplitMix64(seed: 7)
        var kills = 0
        while kills < 22 {
            let processor = try ProcessorProcess(brokers: crashBroker.bootstrapServers, store: crashStore, directory: directory.path, batchSize: 10)
            // Kill after a random number of committed batches, sometimes a moment later so the
            // relay is publishing, sometimes before the first batch.
            let batches = Int(random.next() % 4)
            for _ in 0..<batches {
                guard await processor.waitForLine(containing: "batch committed") != nil else { break }
            }
            if random.next() % 2 == 0 {
                try await Task.sleep(nanoseconds: (random.next() % 50) * 1_000_000)   // a random moment, not a synchronization
            }
            _ = await processor.signal(SIGKILL)
            kills += 1
        }
        try await runToCompletion(brokers: crashBroker.bootstrapServers, store: crashStore, directory: directory.path, ends: crashEnds)

        // 1. The store is as if nothing had crashed.
        let reference = try liveRecords(referenceStore)
        let crashed = try liveRecords(crashStore)
        #expect(reference.count >= 400)
        #expect(crashed == reference, "\(Set(crashed.keys).symmetricDifference(reference.keys).prefix(5))")

        // 2. The accounting identity holds, with the same numbers.
        let referenceStats = try await storeStats(referenceStore, directory: directory.path)
        let crashStats = try await storeStats(crashStore, directory: directory.path)
        let events = crashStats["events"] as? [String: Int] ?? [:]
        #expect(events["total"] == (events["applied"] ?? 0) + (events["duplicate"] ?? 0) + (events["review"] ?? 0) + (events["dead_lettered"] ?? 0))
        #expect(events["dead_lettered"] == scenario.malformed)
        #expect((events["duplicate"] ?? 0) >= scenario.redelivered)
        #expect(NSDictionary(dictionary: events) == NSDictionary(dictionary: referenceStats["events"] as? [String: Int] ?? [:]))

        // 3. The audit stream: one distinct audit_id per write, gap-free seq, verified chains.
        let audit = try await readTopic("audit.events.v1", partitions: 6, brokers: crashBroker.bootstrapServers)
        let decoded = try audit.map { try JSONDecoder().decode(AuditEvent.self, from: Data($0.value ?? [])) }
        #expect(AuditVerifier.verify(decoded).isEmpty, "\(AuditVerifier.verify(decoded).prefix(3))")
        let distinct = Dictionary(grouping: decoded, by: \.auditID)
        #expect(distinct.values.allSatisfy { Set($0).count == 1 }, "copies of an audit event are identical")
        let positions = Set(decoded.map { "\($0.goldenID)#\($0.seq)" })
        #expect(positions.count == distinct.count, "exactly one audit_id per (record, seq)")
        let heads = try auditHeadTotal(crashStore)
        #expect(distinct.count == heads, "every applied write is on the topic, nothing more")

        // 4. Dead letters: each poison message exactly once (copies identical), bytes intact.
        let letters = try await readTopic("dlq.events.v1", partitions: 3, brokers: crashBroker.bootstrapServers)
        let byOrigin = Dictionary(grouping: letters) { "\($0.headers.string("crmsync.original.topic") ?? "")@\($0.headers.string("crmsync.original.partition") ?? "")/\($0.headers.string("crmsync.original.offset") ?? "")" }
        #expect(byOrigin.count == scenario.malformed)
        #expect(byOrigin.values.allSatisfy { Set($0.map { $0.value ?? [] }).count == 1 })
        _ = await referenceBroker.stop()
        _ = await crashBroker.stop()
    }

    func auditHeadTotal(_ store: String) throws -> Int {
        let queue = try DatabaseQueue(path: store)
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT coalesce(sum(seq), 0) FROM audit_heads") ?? 0 }
    }

    func readTopic(_ topic: String, partitions: Int32, brokers: String) async throws -> [ConsumerMessage] {
        try await TopicSnapshot.read(topic: topic, partitions: partitions, bootstrapServers: brokers, logger: logger)
    }
}
