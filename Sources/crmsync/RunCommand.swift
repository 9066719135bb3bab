import ArgumentParser
import CRMModel
import CrmsyncConfig
import Dedup
import Foundation
import Kafka
import Logging
import Ownership
import Pipeline
import Store

/// `crmsync run`: the processor.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the processor: consume the four source topics, keep the golden records, publish the outputs.",
        discussion: """
        One active instance per store (a lock file next to it enforces this). SIGINT/SIGTERM shut
        down gracefully: the current batch commits, the outbox is flushed, the consumer leaves the
        group. Exit codes: 0 clean shutdown, 1 unexpected failure, 2 bad configuration,
        3 Kafka failure, 5 store failure or store already in use.
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Most source records applied per store transaction.")
    var batchSize: Int = 500

    func run() async throws {
        try await reportingFailures {
            let configuration = try common.load()
            let logger = Logger(label: "crmsync.run")
            guard (1...10_000).contains(batchSize) else { throw CLIFailure.usage("--batch-size must be between 1 and 10000") }
            let lock = try StoreLock(storePath: configuration.store)
            defer { lock.release() }
            let wiring = try Stages.processor(configuration, logger: logger) { $0.maxBatch = batchSize }
            let processor = wiring.processor
            let producer = wiring.producer
            logger.notice("crmsync run: consuming \(wiring.settings.topics.joined(separator: ", ")) from \(configuration.brokers), store \(configuration.store)")

            let work = Task { try await processor.run() }
            let signalWatcher = Task {
                let signal = await ShutdownSignal.wait()
                logger.notice("signal \(signal): finishing the current batch and shutting down")
                work.cancel()
            }
            defer { signalWatcher.cancel() }
            do {
                try await work.value
            } catch is CancellationError {
                // Graceful shutdown.
            } catch let error as KafkaError {
                await producer.close()
                throw CLIFailure.kafka("\(error)")
            } catch let error as StoreError {
                await producer.close()
                throw CLIFailure.store("\(error)")
            } catch {
                await producer.close()
                throw CLIFailure.other("processor failed: \(error)")
            }
            await producer.close()
            logger.notice("crmsync run: stopped cleanly")
        }
    }
}

/// An exclusive lock file next to the SQLite store: one `crmsync run` per store, one
/// `crmsync dlq replay` per store.
final class StoreLock {
    private let descriptor: Int32
    let path: String

    /// - Parameters:
    ///   - suffix: appended to the store path to name the lock file.
    ///   - holder: what holds the lock, for the error message.
    init(storePath: String, suffix: String = ".lock", holder: String = "`crmsync run`") throws {
        path = storePath + suffix
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CLIFailure.store("cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw CLIFailure.store("the store \(storePath) is in use by another \(holder) (lock \(path)); one at a time per store")
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
