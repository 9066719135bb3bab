import Foundation
import Logging
@testable import Kafka

/// A logger for tests: warnings and worse only, so failures stay readable.
func testLogger(_ label: String = "test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["CRMSYNC_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}

/// Waits for a condition that some other task or callback makes true, without sleeping:
/// every state change calls ``notify()``, and waiters re-check their predicate.
final class Condition<State: Sendable>: Sendable {
    private struct Waiter {
        let predicate: @Sendable (State) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }
    private let storage: Locked<(state: State, waiters: [Waiter])>

    init(_ initial: State) {
        storage = Locked((initial, []))
    }

    var value: State { storage.withLock { $0.state } }

    /// Mutates the state and wakes every waiter whose predicate now holds.
    @discardableResult
    func update<R>(_ body: (inout State) -> R) -> R {
        let (result, ready): (R, [Waiter]) = storage.withLock { storage in
            let result = body(&storage.state)
            let state = storage.state
            let ready = storage.waiters.filter { $0.predicate(state) }
            storage.waiters.removeAll { $0.predicate(state) }
            return (result, ready)
        }
        ready.forEach { $0.continuation.resume() }
        return result
    }

    /// Suspends until `predicate` holds.
    func wait(until predicate: @escaping @Sendable (State) -> Bool) async {
        await withCheckedContinuation { continuation in
            let satisfied = storage.withLock { storage -> Bool in
                if predicate(storage.state) { return true }
                storage.waiters.append(Waiter(predicate: predicate, continuation: continuation))
                return false
            }
            if satisfied { continuation.resume() }
        }
    }
}

/// A mock cluster with one topic, plus the configs to reach it.
struct MockFixture {
    let cluster: MockCluster
    let topic: String
    let logger: Logger

    init(brokers: Int = 3, partitions: Int32, topic: String = "test.\(UUID().uuidString.prefix(8))") throws {
        precondition(c11ThreadsShimLinked)
        logger = testLogger()
        cluster = try MockCluster(brokers: brokers, logger: logger)
        self.topic = topic
        try cluster.createTopic(TopicSpecification(name: topic, partitions: partitions, replicationFactor: Int32(min(brokers, 3))))
    }

    func producer(_ overrides: [String: String] = [:]) throws -> KafkaProducer {
        try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: cluster.bootstrapServers, overrides: overrides), logger: logger)
    }

    func consumer(group: String, listener: (any RebalanceListener)? = nil, overrides: [String: String] = [:]) throws -> KafkaConsumer {
        // Short group timers keep rebalances in tests quick.
        let timers = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        var configuration = ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: group, overrides: timers.merging(overrides) { _, new in new })
        configuration.pollTimeoutMilliseconds = 50
        return try KafkaConsumer(configuration: configuration, rebalanceListener: listener, logger: logger)
    }
}

/// The identity of a test message: what it must look like when consumed.
struct Expected: Hashable, Sendable {
    let key: [UInt8]?
    let value: [UInt8]?
    let headers: [KafkaHeader]
    let timestamp: Int64?
}

/// Sends all messages fire-and-forget and waits for every delivery report.
func produceAll(_ producer: KafkaProducer, _ messages: [ProducerMessage]) async throws -> [Result<DeliveryReport, KafkaError>] {
    let reports = Condition<[Int: Result<DeliveryReport, KafkaError>]>([:])
    for (index, message) in messages.enumerated() {
        try await producer.send(message) { result in
            reports.update { $0[index] = result }
        }
    }
    let count = messages.count
    await reports.wait { $0.count == count }
    return (0..<count).compactMap { reports.value[$0] }
}

import CThreadsForSanitizers

/// Forces the C11-threads shim into the test binary (see threads_shim.c): without a
/// reference the linker may drop it, and TSan runs would crash inside librdkafka's threads.
let c11ThreadsShimLinked = crmsync_c11_threads_shim_linked() == 1
