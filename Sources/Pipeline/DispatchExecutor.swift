import Dispatch

/// Runs blocking work (SQLite) on a serial dispatch queue instead of Swift's cooperative pool,
/// whose few threads must never wait on disk or locks.
final class DispatchExecutor: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
