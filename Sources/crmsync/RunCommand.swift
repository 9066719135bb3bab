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
        One active instance per store (a lock on the store file itself, whatever path names it). SIGINT/SIGTERM shut
        down gracefully: the current batch commits, the outbox is flushed, the consumer leaves the
        group. Exit codes: 0 clean shutdown, 1 unexpected failure, 2 bad configuration,
        3 Kafka failure, 5 store failure or store already in use. The first run records the consumer
        group and Kafka cluster in the store; another group or cluster is refused (exit 2) unless
        --adopt.
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Most source records applied per store transaction.")
    var batchSize: Int = 500

    @Flag(help: "Take over a store recorded for another consumer group or Kafka cluster.")
    var adopt = false

    func run() async throws {
        try await reportingFailures {
            let configuration = try common.load()
            let logger = Logger(label: "crmsync.run")
            guard (1...10_000).contains(batchSize) else { throw CLIFailure.usage("--batch-size must be between 1 and 10000") }
            let lock = try StoreLock(storeFile: configuration.store)
            defer { lock.release() }
            let wiring = try Stages.processor(configuration, logger: logger) { $0.maxBatch = batchSize }
            let processor = wiring.processor
            let producer = wiring.producer
            do {
                _ = try await StoreBindingCheck.check(store: wiring.store, configuration: configuration, adopt: adopt, logger: logger)
            } catch {
                await producer.close()
                throw error
            }
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
