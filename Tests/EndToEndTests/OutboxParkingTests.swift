import Foundation
import Kafka
import Testing

extension FailureModes {
    /// An outbox row the broker will never accept must not block the relay forever: it is parked
    /// (kept in the store, counted in `stats`, logged), and the rows behind it are published.
    @Suite("Undeliverable outbox rows are parked, the rows behind them flow", .serialized, .timeLimit(.minutes(3)))
    struct OutboxParkingTests {
        @Test("a dead letter larger than message.max.bytes is parked; later records are still published")
        func oversizedDeadLetterIsParked() async throws {
            let directory = try FailureSupport.temporaryDirectory("parking")
            defer { try? FileManager.default.removeItem(at: directory) }
            try FailureSupport.writeConfig(in: directory)
            let store = directory.appendingPathComponent("parking.sqlite").path
            let broker = try await DevBrokerProcess()
            func valid(_ id: String) -> ProducerMessage {
                ProducerMessage(topic: "crm.events.v1", key: Array(id.utf8), value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: id))
            }
            // 1.5 MB: oversized for the normalize stage, so it is dead-lettered — and its letter is
            // larger than the relay producer's message.max.bytes (1,000,000), so it can never go out.
            let huge = ProducerMessage(topic: "billing.events.v1", key: Array("huge".utf8),
                                       value: Array(#"{"blob":"\#(String(repeating: "z", count: 1_500_000))"}"#.utf8))
            _ = try await FailureSupport.produce([valid("park-a"), huge], to: broker.bootstrapServers, overrides: ["message.max.bytes": "2000000"])
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: directory.path, batchSize: 50)
            let parkedLine = await processor.waitForLine(containing: "parked as undeliverable", or: ["batch committed"])
            let alarm = parkedLine?.contains("batch committed") == true ? await processor.waitForLine(containing: "parked as undeliverable") : parkedLine
            #expect(alarm?.contains("ALARM outbox record") == true, "\(alarm ?? "no line")")
            #expect(alarm?.contains("dlq.events.v1") == true)
            #expect(alarm?.contains("MSG_SIZE_TOO_LARGE") == true)

            // Rows written after the parked one are published.
            _ = try await FailureSupport.produce([valid("park-b"), valid("park-c")], to: broker.bootstrapServers)
            let stats = try await FailureSupport.awaitStats(store, processor: processor) {
                FailureSupport.events($0)["total"] == 4 && FailureSupport.unsent($0) == 0
            }
            #expect(FailureSupport.events(stats) == ["total": 4, "applied": 3, "duplicate": 0, "review": 0, "dead_lettered": 1])
            #expect((stats["alarms"] as? [String: Int])?["outbox_parked"] == 1)
            let parked = try #require((stats["parked_outbox"] as? [[String: Any]])?.first)
            #expect(parked["topic"] as? String == "dlq.events.v1")
            #expect((parked["bytes"] as? Int ?? 0) > 1_500_000)
            #expect((parked["reason"] as? String)?.contains("MSG_SIZE_TOO_LARGE") == true)

            let golden = try await TopicSnapshot.read(topic: "golden.records.v1", partitions: 6, bootstrapServers: broker.bootstrapServers, logger: FailureSupport.logger)
            #expect(Set(golden.compactMap(\.key)).count == 3, "the records of park-b and park-c went out after the parked row")
            let text = try await crmsync(["stats", "--store", store], directory: directory.path)
            #expect(text.stdout.contains("1 outbox parked"), "\(text.stdout)")
            #expect(processor.process.isRunning)
            #expect(await processor.signal(SIGTERM) == 0, "the relay's final drain does not hang on the parked row")
            _ = await broker.stop()
        }
    }
}
