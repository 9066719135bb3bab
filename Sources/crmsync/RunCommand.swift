import ArgumentParser
import CRMModel
import CrmsyncConfig
import Dedup
import Foundation
import HTTPServer
import Kafka
import Logging
import Operations
import Ownership
import Pipeline
import ServiceLifecycle
import Store

/// `crmsync run`: the processor.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the processor: consume the four source topics, keep the golden records, publish the outputs.",
        discussion: """
        One active instance per store (a lock on the store file itself, whatever path names it).
        SIGINT/SIGTERM shut down gracefully within shutdown_timeout (default 30 s): the current
        batch commits, the consumer leaves the group, the outbox is drained; a second signal stops
        at once. The first run records the consumer group and Kafka cluster in the store; another
        group or cluster is refused (exit 2) unless --adopt. Every offset commit carries the
        store's id; a partition last committed by another store stops the run (exit 6) unless
        --adopt. Exit codes: 0 clean shutdown, 1 unexpected failure, 2 bad configuration,
        3 Kafka failure (a fatal producer error included), 5 store failure or store already in
        use, 6 another store in the consumer group, 7 an unreadable record batch,
        124 shutdown_timeout reached before the graceful shutdown finished, 130 a second signal.
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Most source records applied per store transaction.")
    var batchSize: Int = 500

    @Option(name: .customLong("http-addr"), help: ArgumentHelp(
        "Serve /metrics, /healthz and /readyz on HOST:PORT (:PORT for every interface, port 0 for any free one; config http_addr).",
        valueName: "host:port"))
    var httpAddress: String?

    @Flag(help: "Take over a store recorded for another consumer group or Kafka cluster, and the group's partitions another store committed (this store becomes the group's only one).")
    var adopt = false

    func run() async throws {
        try await reportingFailures {
            // Usage errors exit 2 like every other bad-configuration error (README exit codes).
            guard (1...10_000).contains(batchSize) else { throw CLIFailure.usage("--batch-size must be between 1 and 10000") }
            var configuration = try common.load()
            if let httpAddress {
                guard let address = HTTPAddress(parsing: httpAddress) else {
                    throw CLIFailure.usage("--http-addr: expected HOST:PORT (e.g. 127.0.0.1:9464 or :9464), found \"\(httpAddress)\"")
                }
                configuration.httpAddress = address
            }
            let logger = Logger(label: "crmsync.run")
            let lock = try StoreLock(storeFile: configuration.store)
            defer { lock.release() }
            let metrics = PipelineMetrics()
            let wiring = try Stages.processor(configuration, logger: logger, metrics: metrics) { settings in
                settings.maxBatch = batchSize
                settings.runsRelay = false
                settings.onBatchCommitted = { result in metrics.record(result) }
            }
            do {
                let binding = try await StoreBindingCheck.check(store: wiring.store, configuration: configuration, adopt: adopt, logger: logger)
                wiring.processor.markCommits(storeID: binding.storeID, adopting: adopt)
            } catch {
                await wiring.producer.close()
                throw error
            }
            logger.notice("crmsync run: consuming \(wiring.settings.topics.joined(separator: ", ")) from \(configuration.brokers), store \(configuration.store)")

            // Stopped in reverse: the processor commits its batch and leaves the group, the relay
            // publishes what that batch wrote, the HTTP server answers until the end.
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            let stopping = OnceFlag()
            if let address = configuration.httpAddress {
                // The web console mounts next to /metrics and the probes (when console.users is set).
                let console: [any RouteContributor] = try ConsoleWiring.routes(configuration, wiring: wiring, logger: logger).map { [$0] } ?? []
                let server = OperationsServer(host: address.host, port: address.port,
                                              contributors: OperationsWiring.routes(wiring, metrics: metrics, stopping: stopping) + console, logger: logger)
                services.append(.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
            }
            services.append(.init(service: RelayService(relay: wiring.relay, logger: logger),
                                  successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
            services.append(.init(service: ProcessorService(processor: wiring.processor),
                                  successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
            var failure: (any Error)?
            do {
                try await Lifecycle.run(services, shutdownTimeout: .seconds(configuration.shutdownTimeoutSeconds), logger: logger,
                                        onSignal: { _ = stopping.claim() })
            } catch {
                failure = error
            }
            // The one place the producer closes: after every service stopped, however they did.
            await wiring.producer.close()
            if let failure { throw Self.failure(failure) }
            logger.notice("crmsync run: stopped cleanly")
        }
    }

    /// The exit code's kind for what ended the service group.
    static func failure(_ error: any Error) -> CLIFailure {
        switch error {
        case let error as KafkaError: .kafka("\(error)")
        case let error as StoreError: .store("\(error)")
        case let failure as CLIFailure: failure
        case let alarm as StopAlarm: .alarm(alarm)
        default: .other("processor failed: \(error)")
        }
    }
}
