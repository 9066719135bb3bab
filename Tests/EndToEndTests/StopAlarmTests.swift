import Foundation
import Kafka
import Testing

/// Issue 14 items 3 and 5 through the binary: `crmsync run` raises an ALARM and stops, with its
/// own exit code, instead of writing when another store commits in its consumer group (exit 6)
/// or when a source record batch cannot be decoded (exit 7).
@Suite("Stop alarms: a second store in the group, an unreadable batch", .serialized, .timeLimit(.minutes(5)))
struct StopAlarmTests {
    /// One valid canonical event per partition of crm.events.v1 (6 partitions), ids `prefix-N`.
    func onePerPartition(_ prefix: String) -> [ProducerMessage] {
        (0..<6).map { index in
            ProducerMessage(topic: "crm.events.v1", partition: Int32(index), key: Array("\(prefix)-\(index)".utf8),
                            value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "\(prefix)-\(index)"))
        }
    }

    func total(_ store: String) async throws -> Int {
        FailureSupport.events(try await storeStats(store))["total"] ?? 0
    }

    /// The ALARM line `processor` logs, or nil once `store` holds more than `allowed` events
    /// (it wrote where it must not) or it ended; a run that did not alarm is stopped with
    /// SIGTERM, so the exit-code check fails instead of the test hanging.
    func awaitAlarm(_ processor: ProcessorProcess, store: String, allowed: Int) async throws -> String? {
        while let line = await processor.waitForLine(containing: "ALARM", or: ["batch committed"]) {
            if line.contains("ALARM") { return line }
            if try await total(store) > allowed { break }
        }
        _ = await processor.signal(SIGTERM)
        return nil
    }

    @Test("a second store in the same group stops with exit 6 and writes nothing; --adopt takes the group over; a restart sees its own id")
    func secondStoreInGroup() async throws {
        let directory = try FailureSupport.temporaryDirectory("second-store")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try FailureSupport.writeConfig(in: directory)
        let storeA = directory.appendingPathComponent("a.sqlite").path
        let storeB = directory.appendingPathComponent("b.sqlite").path
        let broker = try await DevBrokerProcess()
        _ = try await FailureSupport.produce(onePerPartition("first"), to: broker.bootstrapServers)

        let a = try ProcessorProcess(brokers: broker.bootstrapServers, store: storeA, directory: repositoryRoot, batchSize: 10, config: config)
        _ = try await FailureSupport.awaitStats(storeA, processor: a) { FailureSupport.events($0)["total"] == 6 }

        // B joins the same group with its own (new) store: the partitions it is assigned carry A's id.
        let b = try ProcessorProcess(brokers: broker.bootstrapServers, store: storeB, directory: repositoryRoot, batchSize: 10, config: config)
        let alarm = try await awaitAlarm(b, store: storeB, allowed: 0)
        #expect(alarm?.contains("another store writes in this consumer group") == true, "\(alarm ?? "no ALARM line")")
        #expect(await b.signal(0) == 6, "the second store stops by itself with exit 6")
        let statsB = try await storeStats(storeB)
        #expect(FailureSupport.events(statsB)["total"] ?? 0 == 0, "the second store applied nothing")
        #expect((statsB["alarms"] as? [String: Int])?["foreign_store"] == 1, "the alarm is recorded: \(statsB["alarms"] ?? "-")")

        // A goes on alone: every new event applied once, by A.
        _ = try await FailureSupport.produce(onePerPartition("second"), to: broker.bootstrapServers)
        _ = try await FailureSupport.awaitStats(storeA, processor: a) { FailureSupport.events($0)["total"] == 12 }
        #expect(try await total(storeA) + (try await total(storeB)) == 12, "no event applied by both stores")
        #expect(await a.signal(SIGTERM) == 0)

        // A retired: B takes the group over with --adopt (stale ids of A are no obstacle) ...
        let adopting = try ProcessorProcess(arguments: ["run", "--brokers", broker.bootstrapServers, "--store", storeB, "--config", config,
                                                        "--batch-size", "10", "--adopt", "--log-level", "info"], directory: repositoryRoot)
        _ = try await FailureSupport.awaitStats(storeB, processor: adopting) { FailureSupport.events($0)["total"] == 12 }
        #expect(await adopting.signal(SIGTERM) == 0)
        // ... and restarted without --adopt it meets only its own id.
        let restarted = try ProcessorProcess(brokers: broker.bootstrapServers, store: storeB, directory: repositoryRoot, batchSize: 10, config: config)
        _ = try await FailureSupport.produce(Array(onePerPartition("third").prefix(1)), to: broker.bootstrapServers)
        _ = try await FailureSupport.awaitStats(storeB, processor: restarted) { FailureSupport.events($0)["total"] == 13 }
        #expect(await restarted.signal(SIGTERM) == 0)

        // Now A is the stranger: it stops before applying the new event.
        let returning = try ProcessorProcess(brokers: broker.bootstrapServers, store: storeA, directory: repositoryRoot, batchSize: 10, config: config)
        #expect(try await awaitAlarm(returning, store: storeA, allowed: 12) != nil)
        #expect(await returning.signal(0) == 6, "A meets B's id and stops")
        #expect(try await total(storeA) == 12)
        _ = await broker.stop()
    }

    @Test("an undecodable record batch: ALARM naming topic, partition and offset, exit 7, nothing from it on applied, again after a restart")
    func unreadableBatch() async throws {
        #expect(RawProduce.crc32c(Array("123456789".utf8)) == 0xE306_9283, "the test's CRC-32C is Kafka's")
        let directory = try FailureSupport.temporaryDirectory("unreadable")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try FailureSupport.writeConfig(in: directory)
        let store = directory.appendingPathComponent("unreadable.sqlite").path
        // One broker: it leads every partition, so the hand-written ProduceRequest goes to it.
        let broker = try await DevBrokerProcess(arguments: ["--broker-count", "1"])
        func raw(_ id: String, corrupt: Bool) throws -> Int64 {
            try RawProduce.produce(topic: "crm.events.v1", partition: 0, key: Array(id.utf8),
                                   value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: id),
                                   corruptCRC: corrupt, address: broker.bootstrapServers)
        }
        // A good hand-written batch (proves the encoding), then the corrupt one, then another good one.
        #expect(try raw("raw-good", corrupt: false) == 0)
        #expect(try raw("raw-bad", corrupt: true) == 1)
        #expect(try raw("raw-after", corrupt: false) == 2)

        for attempt in 1...2 {
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 10, config: config)
            let alarm = try await awaitAlarm(processor, store: store, allowed: 1)
            #expect(alarm?.contains("unreadable record batch on crm.events.v1 partition 0 at offset 1") == true, "attempt \(attempt): \(alarm ?? "no ALARM line")")
            #expect(await processor.signal(0) == 7, "attempt \(attempt): run stops by itself with exit 7")
            let stats = try await storeStats(store)
            #expect(FailureSupport.events(stats)["applied"] == 1, "only the event before the bad batch: \(FailureSupport.events(stats))")
            #expect(FailureSupport.events(stats)["total"] == 1)
            let offsets = stats["offsets"] as? [String: [String: Int]] ?? [:]
            #expect(offsets["crm.events.v1"]?["0"] == 1, "the stored offset stays at the bad batch: \(offsets)")
            #expect((stats["alarms"] as? [String: Int])?["unreadable_batch"] == attempt, "\(stats["alarms"] ?? "-")")
            let text = try await crmsync(["stats", "--store", store])
            #expect(text.stdout.contains("crm.events.v1[0]: stopped at 1: unreadable record batch"), "\(text.stdout)")
        }
        _ = await broker.stop()
    }
}
