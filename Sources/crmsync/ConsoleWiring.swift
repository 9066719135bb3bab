import Console
import CrmsyncConfig
import HTTPServer
import Logging
import Pipeline
import Store

/// The web console's routes for `crmsync run --http-addr`, wired to the running store.
enum ConsoleWiring {
    /// nil (and a log line) when `console.users` is empty: nobody could sign in.
    static func routes(_ configuration: CrmsyncConfiguration, wiring: ProcessorWiring, logger: Logger) throws -> ConsoleRoutes? {
        let store = wiring.store, processor = wiring.processor
        guard !configuration.console.users.isEmpty else {
            logger.notice("web console off: no console.users in the configuration")
            return nil
        }
        // The same write stage `crmsync review approve|reject` builds, on the running store.
        let writer = try Stages.writeStage(configuration, store: store, logger: Logger(label: "crmsync.console"))
        return try ConsoleRoutes(settings: configuration.console, store: store, auditTopic: configuration.topic(.audit),
                                 dlqTopic: configuration.topic(.dlq), logger: logger, now: { Clock.system.now() },
                                 deadLetters: KafkaDeadLetterBrowser(configuration: configuration, logger: logger),
                                 consumerLag: {
                                     // The same numbers as crmsync_consumer_lag.
                                     await processor.consumerLag()?.map { PartitionLag(topic: $0.key.topic, partition: $0.key.partition, lag: $0.value) }
                                 }) { id, decision, actor, comment in
            try writer.resolveReview(id: id, decision: decision, actor: actor, comment: comment)
        }
    }
}

/// The console's routes have the contributor shape already; this makes them one.
extension ConsoleRoutes: RouteContributor {}
