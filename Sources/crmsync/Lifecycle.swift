import Foundation
import Logging
import ServiceLifecycle
import Kafka
import UnixSignals

/// How long-running commands run their services: a `ServiceGroup` that the first SIGTERM or
/// SIGINT shuts down gracefully (each service finishes its work, in reverse order), within
/// `shutdownTimeout` (then the process ends at once, exit ``deadlineExitCode``); a second signal
/// ends the process at once (exit 130).
enum Lifecycle {
    /// The exit code when a graceful shutdown did not finish within `shutdown_timeout` (as
    /// `timeout(1)` reports a command it had to stop).
    static let deadlineExitCode: Int32 = 124

    /// Runs `services` until they end, fail, or a signal stops them; `onSignal` is called when the
    /// first signal starts the graceful shutdown (readiness turns it into "not ready").
    static func run(_ services: [ServiceGroupConfiguration.ServiceConfiguration], shutdownTimeout: Duration, logger: Logger,
                    onSignal: @escaping @Sendable () -> Void = {}) async throws {
        // No group deadline: cancelling the services would let some of them return early and the
        // command report a clean stop; the deadline of `watchSignals` ends the process instead.
        let configuration = ServiceGroupConfiguration(services: services, logger: logger)
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
                startDeadline(shutdownTimeout, logger: logger)
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
    /// Ends the process `timeout` from now unless it has ended by then: a graceful shutdown that
    /// cannot finish (a batch that cannot commit, an outbox that cannot drain, a producer that
    /// cannot flush) must not keep a process the operator asked to stop. Like a crash, nothing is
    /// lost: the store commits batch by batch and the next start carries on.
    private static func startDeadline(_ timeout: Duration, logger: Logger) {
        // Unstructured on purpose: it outlives the service group (the producer closes after it)
        // and is never cancelled; the process ending first is the normal case.
        Task.detached {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            logger.error("shutdown_timeout of \(timeout.components.seconds) s reached before the graceful shutdown finished: stopping at once (exit \(deadlineExitCode)); the next start carries on as after a crash")
            Foundation.exit(deadlineExitCode)
        }
    }

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
