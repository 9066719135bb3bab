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
        One active instance per store (a lock file next to it enforces this). SIGINT/SIGTERM shut
        down gracefully within shutdown_timeout (default 30 s): the current batch commits, the
        consumer leaves the group, the outbox is drained; a second signal stops at once. Exit codes: 0 clean shutdown, 1 unexpected failure, 2 bad configuration,
        3 Kafka failure, 5 store failure or store already in use.
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Most source records applied per store transaction.")
    var batchSize: Int = 500

    @Option(name: .customLong("http-addr"), help: ArgumentHelp(
        "Serve /metrics, /healthz and /readyz on HOST:PORT (:PORT for every interface, port 0 for any free one; config http_addr).",
        valueName: "host:port"))
    var httpAddress: String?

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
            let lock = try StoreLock(storePath: configuration.store)
            defer { lock.release() }
            let metrics = PipelineMetrics()
            let wiring = try Stages.processor(configuration, logger: logger, metrics: metrics) { settings in
                settings.maxBatch = batchSize
                settings.runsRelay = false
                settings.onBatchCommitted = { result in metrics.record(result) }
            }
            logger.notice("crmsync run: consuming \(wiring.settings.topics.joined(separator: ", ")) from \(configuration.brokers), store \(configuration.store)")

            // Stopped in reverse: the processor commits its batch and leaves the group, the relay
            // publishes what that batch wrote, the HTTP server answers until the end.
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            let stopping = OnceFlag()
            if let address = configuration.httpAddress {
                let server = OperationsServer(host: address.host, port: address.port,
                                              contributors: OperationsWiring.routes(wiring, metrics: metrics, stopping: stopping), logger: logger)
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
        default: .other("processor failed: \(error)")
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
