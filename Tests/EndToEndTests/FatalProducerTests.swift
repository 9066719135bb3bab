import Foundation
import Kafka
import Testing

extension FailureModes {
    /// Issue 14 item 4 through the binary: a fatal idempotent-producer error stops `run` with
    /// exit 3 and an ALARM line instead of a relay retrying forever while the outbox grows; a
    /// restart publishes what was left, and nothing is lost.
    @Suite("Fatal producer error: run stops loudly, a restart loses nothing", .serialized, .timeLimit(.minutes(4)))
    struct FatalProducerTests {
        func events(_ range: Range<Int>) -> [ProducerMessage] {
            range.map { index in
                let (topic, source, system) = FailureSupport.sources[index % 4]
                return ProducerMessage(topic: topic, key: Array("fatal-\(index)".utf8),
                                       value: FailureSupport.validEvent(source: source, system: system, id: "fatal-\(index)"))
            }
        }

        @Test("INVALID_PRODUCER_EPOCH on the relay's produce: exit 3 with ALARM, then a restart publishes everything")
        func fatalProducerErrorStopsRun() async throws {
            let directory = try FailureSupport.temporaryDirectory("fatal-producer")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("fatal.sqlite").path
            let broker = try await DevBrokerProcess(arguments: ["--control"])
            _ = try await FailureSupport.produce(events(0..<20), to: broker.bootstrapServers)
            // The next Produce request (the relay's, once it has outputs) fails with
            // INVALID_PRODUCER_EPOCH (47): fatal for an idempotent, non-transactional producer.
            #expect(await broker.control("push-errors 0 47") == "ok")
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20)
            let alarm = await processor.waitForLine(containing: "ALARM")
            #expect(alarm?.contains("fatal") == true, "\(alarm ?? "no ALARM line")")
            #expect(await processor.signal(0) == 3, "run stops by itself with exit 3")
            let stopped = try await storeStats(store)
            // Whatever batch was in flight committed, with its offsets (how many of the 20 it held
            // depends on what the first fetch brought): the store accounts for exactly what it consumed.
            let total = FailureSupport.events(stopped)["total"] ?? 0
            let consumed = (stopped["offsets"] as? [String: [String: Int]] ?? [:]).values.flatMap(\.values).reduce(0, +)
            #expect((1...20).contains(total), "the batch in flight committed before the stop (\(total) of 20)")
            #expect(consumed == total, "offsets committed with exactly the events they account for")

            let restarted = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20)
            let stats = try await FailureSupport.awaitStats(store, processor: restarted) {
                FailureSupport.events($0)["total"] == 20 && FailureSupport.unsent($0) == 0
            }
            #expect(FailureSupport.events(stats)["applied"] == 20)
            let golden = try await TopicSnapshot.read(topic: "golden.records.v1", partitions: 6, bootstrapServers: broker.bootstrapServers,
                                                      logger: FailureSupport.logger)
            #expect(golden.count >= 20, "the restarted relay published the outbox")
            #expect(await restarted.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }
    }
}
