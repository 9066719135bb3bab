import Foundation
import Kafka
import Testing

extension FailureModes {
    /// Issue 14 item 5 through the binary: while a transient failure lasts longer than
    /// `max.poll.interval.ms`, `crmsync run` keeps polling with its partitions paused, so it is
    /// never dropped from the group; once the fault clears every event is applied once.
    @Suite("Long transient failures: the member stays in its group", .serialized, .timeLimit(.minutes(4)))
    struct LongTransientFailureTests {
        func events(_ range: Range<Int>) -> [ProducerMessage] {
            range.map { index in
                let (topic, source, system) = FailureSupport.sources[index % 4]
                return ProducerMessage(topic: topic, key: Array("poll-\(index)".utf8),
                                       value: FailureSupport.validEvent(source: source, system: system, id: "poll-\(index)"))
            }
        }

        @Test("the store locked for longer than max.poll.interval.ms: no poll-interval error, no rebalance, all applied")
        func lockedLongerThanThePollInterval() async throws {
            let directory = try FailureSupport.temporaryDirectory("long-lock")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("long-lock.sqlite").path
            let config = directory.appendingPathComponent("poll.yml").path
            try """
            kafka:
              session.timeout.ms: 3000
              heartbeat.interval.ms: 300
              max.poll.interval.ms: 11000
            ownership: \(repositoryRoot)/config/ownership.yml
            normalize:
              mappings: \(repositoryRoot)/config/picklists.yml
              blocked_identifiers: \(repositoryRoot)/config/blocked-identifiers.yml
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let broker = try await DevBrokerProcess()
            _ = try await FailureSupport.produce(events(0..<8), to: broker.bootstrapServers)
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20, config: config)
            _ = try await FailureSupport.awaitStats(store, processor: processor) { FailureSupport.events($0)["total"] == 8 }

            let lock = StoreLockHolder(path: store)
            try await lock.acquire()
            _ = try await FailureSupport.produce(events(8..<24), to: broker.bootstrapServers)
            // Each attempt waits out SQLite's busy timeout (5 s) before it fails: by the fourth
            // retry line the store has been locked for over 20 s, well past max.poll.interval.ms
            // (11 s). Between two polls there is one attempt of the processor, which can queue
            // behind one of the relay's (the store has one writer): the interval must exceed
            // twice the busy timeout (an 8 s interval was overrun by ~0.4 s now and then).
            var retries = 0
            while retries < 4 {
                let line = await processor.waitForLine(containing: "transient failure, retrying batch", or: ["poll interval", "MAX_POLL"])
                guard let line else { Issue.record("crmsync run ended"); return }
                #expect(!line.contains("poll interval") && !line.contains("MAX_POLL"), "dropped from the group: \(line)")
                if line.contains("transient failure") { retries += 1 }
            }
            lock.release()

            // One more event after the fault: its poll would report a poll-interval overrun.
            for (produced, total) in [(24, 24), (25, 25)] {
                if produced == 25 { _ = try await FailureSupport.produce(events(24..<25), to: broker.bootstrapServers) }
                var applied = false
                while !applied {
                    let line = await processor.waitForLine(containing: "batch committed", or: ["poll interval", "MAX_POLL", "outbox published"])
                    guard let line else { Issue.record("crmsync run ended"); return }
                    #expect(!line.contains("poll interval") && !line.contains("MAX_POLL"), "dropped from the group: \(line)")
                    applied = FailureSupport.events(try await storeStats(store))["total"] == total
                }
            }
            let stats = try await storeStats(store)
            #expect(FailureSupport.events(stats) == ["total": 25, "applied": 25, "duplicate": 0, "review": 0, "dead_lettered": 0])
            #expect(processor.process.isRunning)
            #expect(await processor.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }
    }
}
