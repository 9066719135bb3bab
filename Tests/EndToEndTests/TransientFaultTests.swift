import Foundation
import GRDB
import Kafka
import Testing

extension FailureModes {
    /// docs/contract.md#transient-failures through the binary: retried with backoff, never dead-lettered,
    /// never skipped; processing resumes once the fault clears.
    @Suite("Transient faults: broker outage and a locked store", .serialized, .timeLimit(.minutes(5)))
    struct TransientFaultTests {
        /// `count` valid events spread over the four source topics, ids starting at `first`.
        func events(_ range: Range<Int>, tag: String) -> [ProducerMessage] {
            range.map { index in
                let (topic, source, system) = FailureSupport.sources[index % 4]
                return ProducerMessage(topic: topic, key: Array("\(tag)-\(index)".utf8),
                                       value: FailureSupport.validEvent(source: source, system: system, id: "\(tag)-\(index)"))
            }
        }

        /// Waits until `stats` shows `total` events all applied and the outbox empty.
        func awaitApplied(_ total: Int, store: String, processor: ProcessorProcess) async throws -> [String: Any] {
            try await FailureSupport.awaitStats(store, processor: processor) {
                FailureSupport.events($0)["total"] == total && FailureSupport.unsent($0) == 0
            }
        }

        func expectAllApplied(_ stats: [String: Any], _ total: Int) {
            #expect(FailureSupport.events(stats) == ["total": total, "applied": total, "duplicate": 0, "review": 0, "dead_lettered": 0],
                    "no dead letters, no loss, nothing twice")
        }

        @Test("produce errors and a full broker outage while events flow: no dead letters, no loss, processing resumes")
        func brokerFaults() async throws {
            let directory = try FailureSupport.temporaryDirectory("broker-faults")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("faults.sqlite").path
            let broker = try await DevBrokerProcess(arguments: ["--control"])
            _ = try await FailureSupport.produce(events(0..<40, tag: "before"), to: broker.bootstrapServers)
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20)
            expectAllApplied(try await awaitApplied(40, store: store, processor: processor), 40)

            // Retriable Produce and Fetch errors (NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT,
            // NOT_LEADER_FOR_PARTITION) hit whoever sends next: the relay, the consumer, this test.
            #expect(await broker.control("push-errors 0 19,7,19,7,6,19") == "ok")
            #expect(await broker.control("push-errors 1 7,6,7,6") == "ok")
            _ = try await FailureSupport.produce(events(40..<80, tag: "errors"), to: broker.bootstrapServers)

            // Every broker down while those events may still be in flight, until `run` notices.
            for id in 1...3 { #expect(await broker.control("broker-down \(id)") == "ok") }
            let noticed = await processor.waitForLine(containing: "_ALL_BROKERS_DOWN", or: ["_TRANSPORT"])
            #expect(noticed != nil, "crmsync run saw the outage")
            for id in 1...3 { #expect(await broker.control("broker-up \(id)") == "ok") }
            _ = try await FailureSupport.produce(events(80..<120, tag: "after"), to: broker.bootstrapServers)

            let stats = try await awaitApplied(120, store: store, processor: processor)
            expectAllApplied(stats, 120)
            #expect((stats["records"] as? [String: Int])?["contact"] == 120)
            let golden = try await TopicSnapshot.read(topic: "golden.records.v1", partitions: 6, bootstrapServers: broker.bootstrapServers, logger: FailureSupport.logger)
            #expect(Set(golden.compactMap(\.key)).count == 120, "every record published despite the faults")
            let letters = try await TopicSnapshot.read(topic: "dlq.events.v1", partitions: 3, bootstrapServers: broker.bootstrapServers, logger: FailureSupport.logger)
            #expect(letters.isEmpty, "a transient fault is never a dead letter")
            #expect(processor.process.isRunning)
            #expect(await processor.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }

        @Test("a store locked by another connection: run retries with backoff (logged as transient), then applies everything")
        func lockedStore() async throws {
            let directory = try FailureSupport.temporaryDirectory("locked-store")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = directory.appendingPathComponent("locked.sqlite").path
            let broker = try await DevBrokerProcess()
            _ = try await FailureSupport.produce(events(0..<20, tag: "unlocked"), to: broker.bootstrapServers)
            let processor = try ProcessorProcess(brokers: broker.bootstrapServers, store: store, directory: repositoryRoot, batchSize: 20)
            expectAllApplied(try await awaitApplied(20, store: store, processor: processor), 20)

            // Another connection takes the write lock and holds it until the test has seen `run`
            // retry (the fault itself lasts as long as the test decides; nothing waits on a timer).
            let lock = StoreLockHolder(path: store)
            try await lock.acquire()
            _ = try await FailureSupport.produce(events(20..<60, tag: "locked"), to: broker.bootstrapServers)
            let retry = await processor.waitForLine(containing: "transient failure, retrying batch")
            #expect(retry?.contains("busy") == true || retry?.contains("locked") == true, "\(retry ?? "no retry line")")
            #expect(await processor.waitForLine(containing: "transient failure, retrying batch") != nil, "it keeps retrying while the lock is held")
            let locked = try await storeStats(store)
            #expect(FailureSupport.events(locked)["total"] == 20, "nothing was applied (or dead-lettered) while the store was locked")
            lock.release()

            let stats = try await awaitApplied(60, store: store, processor: processor)
            expectAllApplied(stats, 60)
            #expect((stats["records"] as? [String: Int])?["contact"] == 60)
            #expect(processor.process.isRunning)
            #expect(await processor.signal(SIGTERM) == 0)
            _ = await broker.stop()
        }
    }
}

/// Holds `BEGIN IMMEDIATE` on a SQLite file from its own connection and thread until released.
final class StoreLockHolder: @unchecked Sendable {
    // @unchecked: `path` is immutable; `release` is a semaphore, which is thread-safe.
    private let path: String
    private let releaseSignal = DispatchSemaphore(value: 0)

    init(path: String) { self.path = path }

    /// Returns once the write lock is held.
    func acquire() async throws {
        let path = self.path
        let releaseSignal = self.releaseSignal
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            Thread.detachNewThread {
                var resumed = false
                do {
                    let queue = try DatabaseQueue(path: path)
                    try queue.inDatabase { db in
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        resumed = true
                        continuation.resume()
                        releaseSignal.wait()
                        try db.execute(sql: "ROLLBACK")
                    }
                } catch {
                    if !resumed { continuation.resume(throwing: error) }
                }
            }
        }
    }

    func release() { releaseSignal.signal() }
}
