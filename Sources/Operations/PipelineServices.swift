import Logging
import Pipeline
import ServiceLifecycle

/// The processor as a lifecycle service: graceful shutdown lets the batch in hand commit, then
/// the consumer leaves the group and ``run()`` returns.
public struct ProcessorService: Service {
    private let processor: Processor

    public init(processor: Processor) {
        self.processor = processor
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await processor.run()
        } onGracefulShutdown: {
            processor.stop()
        }
    }
}

/// The outbox relay as a lifecycle service. Started before the processor and stopped after it
/// (the service group stops in reverse order), so its final drain publishes the last batch's rows.
public struct RelayService: Service {
    private let relay: OutboxRelay
    private let logger: Logger

    public init(relay: OutboxRelay, logger: Logger) {
        self.relay = relay
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await relay.run()
            } onGracefulShutdown: {
                relay.stop()
            }
        } catch where Task.isShuttingDownGracefully || Task.isCancelled {
            // The final drain failed (brokers away): the rows stay in the outbox, and the next
            // `crmsync run` publishes them. Nothing is lost; shutting down is not an error.
            logger.warning("outbox relay stopped with rows unpublished (published by the next run): \(error)")
        }
    }
}
