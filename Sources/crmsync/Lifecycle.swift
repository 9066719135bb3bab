import Foundation
import Logging
import ServiceLifecycle
import Kafka
import UnixSignals

/// How long-running commands run their services: a `ServiceGroup` that the first SIGTERM or
/// SIGINT shuts down gracefully (each service finishes its work, in reverse order), within
/// `shutdownTimeout` (then the services are cancelled); a second signal ends the process at once.
enum Lifecycle {
    /// Runs `services` until they end, fail, or a signal stops them; `onSignal` is called when the
    /// first signal starts the graceful shutdown (readiness turns it into "not ready").
    static func run(_ services: [ServiceGroupConfiguration.ServiceConfiguration], shutdownTimeout: Duration, logger: Logger,
                    onSignal: @escaping @Sendable () -> Void = {}) async throws {
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownTimeout
        let group = ServiceGroup(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                await watchSignals(logger: logger, shutdownTimeout: shutdownTimeout) {
                    onSignal()
                    await group.triggerGracefulShutdown()
                }
            }
            // The group ending (by itself or by a signal) ends the signal watcher too.
            defer { tasks.cancelAll() }
            _ = try await tasks.next()
        }
    }

    /// Suspends until the first SIGTERM or SIGINT (for commands with nothing to shut down).
    static func firstSignal() async -> UnixSignal? {
        for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) { return signal }
        return nil
    }

    private static func watchSignals(logger: Logger, shutdownTimeout: Duration, shutdown: @Sendable () async -> Void) async {
        var seen = 0
        for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            seen += 1
            if seen == 1 {
                logger.notice("\(signal): shutting down gracefully (at most \(shutdownTimeout.components.seconds) s; a second signal stops at once)")
                await shutdown()
            } else {
                // What the default action would have done to the first one: end now. The store
                // commits batch by batch, so a restart carries on as after a crash.
                logger.notice("\(signal) again: stopping at once")
                Foundation.exit(130)
            }
        }
    }
}

extension Lifecycle {
    /// Runs one finite job (`dlq replay`) the same way: the first signal calls `onShutdown`
    /// (the job winds down and returns its result), a second one ends the process.
    static func runUntilDone<T: Sendable>(shutdownTimeout: Duration, logger: Logger, onShutdown: @escaping @Sendable () -> Void,
                                          _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let result = Locked<T?>(nil)
        let job = JobService {
            try await withGracefulShutdownHandler {
                let value = try await body()
                result.withLock { $0 = value }
            } onGracefulShutdown: {
                onShutdown()
            }
        }
        try await run([.init(service: job, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup)],
                      shutdownTimeout: shutdownTimeout, logger: logger)
        guard let value = result.withLock({ $0 }) else { throw CancellationError() }
        return value
    }
}

/// A service that runs a closure once.
private struct JobService: Service {
    let body: @Sendable () async throws -> Void
    func run() async throws { try await body() }
}
