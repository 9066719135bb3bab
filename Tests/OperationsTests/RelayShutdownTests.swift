import Foundation
import Kafka
import Logging
import Operations
import Pipeline
import ServiceLifecycle
import Testing

/// The relay's wait between failed rounds must not hold up a graceful shutdown (issue 11).
@Suite("Relay shutdown", .timeLimit(.minutes(1)))
struct RelayShutdownTests {
    struct StoreAway: Error {}

    /// An outbox whose every read fails, as while the store is unreadable.
    struct FailingOutbox: Outbox {
        func unsent(limit: Int) throws -> [OutboxRecord] { throw StoreAway() }
        func markSent(_ ids: [Int64]) throws {}
        func park(_ id: Int64, reason: String) throws {}
    }

    /// Hands every log message to the test as it is written.
    struct StreamingLogHandler: LogHandler {
        let continuation: AsyncStream<String>.Continuation
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { continuation.yield("\(event.message)") }
    }

    @Test("a graceful shutdown ends the relay's retry wait at once instead of waiting it out")
    func shutdownCutsTheRetryWaitShort() async throws {
        let (lines, continuation) = AsyncStream<String>.makeStream()
        let logger = Logger(label: "test.relay") { _ in StreamingLogHandler(continuation: continuation) }
        // Nothing is ever sent, so the producer never needs a broker.
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: "127.0.0.1:9"), logger: logger)
        // Waits of up to an hour (full jitter): the first failed round almost surely waits minutes.
        let relay = OutboxRelay(outbox: FailingOutbox(), producer: producer, logger: logger,
                                backoff: Backoff(baseMilliseconds: 3_600_000, capMilliseconds: 3_600_000))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: RelayService(relay: relay, logger: logger))], logger: logger))
        let running = Task { try await group.run() }

        var waitMilliseconds: Int?
        for await line in lines where line.contains("retrying in ") {
            waitMilliseconds = line.components(separatedBy: "retrying in ").last.flatMap { Int($0.prefix { $0.isNumber }) }
            break
        }
        let wait = try #require(waitMilliseconds, "the failed round logs its wait")
        let stopped = ContinuousClock.now
        await group.triggerGracefulShutdown()
        // Cancelled at the time limit, so a relay that waits out its backoff fails the test instead of hanging it.
        try await withTaskCancellationHandler { try await running.value } onCancel: { running.cancel() }
        let took = ContinuousClock.now - stopped
        #expect(took < .milliseconds(wait), "the relay stopped in \(took), before its \(wait) ms wait would have ended")
        #expect(took < .seconds(10), "a shutdown does not wait out the backoff (took \(took))")
        await producer.close()
    }
}
