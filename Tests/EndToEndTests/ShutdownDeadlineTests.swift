import Foundation
import Kafka
import Testing

/// `shutdown_timeout` is a deadline: a graceful shutdown that cannot finish ends the process when
/// it passes, and the store carries on as after a crash (issue 11).
extension FailureModes {
    @Suite("Shutdown deadline", .serialized, .timeLimit(.minutes(5)))
    struct ShutdownDeadlineTests {
        @Test("a graceful shutdown that cannot finish (store locked, batch in hand) ends at shutdown_timeout with exit 124 and says so; a restart loses and doubles nothing")
        func deadlineEndsTheProcess() async throws {
            let directory = try FailureSupport.temporaryDirectory("deadline")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("deadline.sqlite").path
            let config = try FailureSupport.writeConfig(in: directory)
            let configText = try String(contentsOfFile: config, encoding: .utf8)
            // Long retry waits: the processor is surely inside one when the signal comes, and lets it
            // end before leaving the batch, so the graceful stop cannot finish within 2 s.
            try Data((configText + "\nshutdown_timeout: 2\nretry:\n  backoff_base_ms: 60000\n  backoff_cap_ms: 60000\n").utf8)
                .write(to: URL(fileURLWithPath: config))
            let broker = try await DevBrokerProcess()
            func events(_ range: Range<Int>) -> [ProducerMessage] {
                range.map { ProducerMessage(topic: "crm.events.v1", key: Array("d-\($0)".utf8), value: FailureSupport.validEvent(source: "crm", system: "salesforce", id: "d-\($0)")) }
            }
            _ = try await FailureSupport.produce(events(0..<4), to: broker.bootstrapServers)
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20, config: config)
            _ = try await FailureSupport.awaitStats(store, processor: processor) { FailureSupport.events($0)["total"] == 4 && FailureSupport.unsent($0) == 0 }

            let lock = StoreLockHolder(path: store)
            try await lock.acquire()
            _ = try await FailureSupport.produce(events(4..<8), to: broker.bootstrapServers)
            // A retry wait of at least 5 s (full jitter up to 60 s: most are).
            while true {
                guard let line = await processor.waitForLine(containing: "transient failure, retrying batch") else {
                    Issue.record("run ended while the store was locked")
                    return
                }
                let delay = line.components(separatedBy: " in ").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
                if delay >= 5_000 { break }
            }
            let signalled = ContinuousClock.now
            kill(processor.process.processIdentifier, SIGTERM)
            #expect(await processor.waitForLine(containing: "shutting down gracefully") != nil)
            let deadline = await processor.waitForLine(containing: "shutdown_timeout of 2 s reached")
            #expect(deadline?.contains("stopping at once (exit 124)") == true, "the log says the deadline was hit: \(deadline ?? "no such line")")
            #expect(await processor.signal(0) == 124, "the documented exit code of a shutdown that hit its deadline")
            let took = ContinuousClock.now - signalled
            #expect(took >= .seconds(2) && took < .seconds(5), "ended at the deadline (took \(took))")
            lock.release()

            let stopped = try await storeStats(store)
            #expect(FailureSupport.identityHolds(stopped), "the store is intact: \(stopped)")
            #expect(FailureSupport.events(stopped)["total"] == 4, "the batch in hand was not committed")
            let again = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20, config: config)
            let stats = try await FailureSupport.awaitStats(store, processor: again) {
                FailureSupport.events($0)["total"] == 8 && FailureSupport.unsent($0) == 0
            }
            #expect(FailureSupport.events(stats) == ["total": 8, "applied": 8, "duplicate": 0, "review": 0, "dead_lettered": 0],
                    "each event applied once across the stop")
            #expect(await again.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }
    }
}
