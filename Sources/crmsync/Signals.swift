import Dispatch
import Foundation

/// SIGINT and SIGTERM without blocking a thread.
enum ShutdownSignal {
    /// Suspends until SIGINT or SIGTERM arrives; returns its number.
    static func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            install { continuation.resume(returning: $0) }
        }
    }

    /// Calls `handler` once, on the main queue, when SIGINT or SIGTERM first arrives. Installed
    /// before this returns, so a signal right after it is never missed (or fatal).
    static func install(_ handler: @escaping @Sendable (Int32) -> Void) {
        let once = OnceFlag()
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            // Ignore the default action so the dispatch source receives it instead.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler {
                guard once.claim() else { return }
                // A second Ctrl-C or SIGTERM ends the process at once if shutdown hangs.
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
                handler(signalNumber)
            }
            source.resume()
            sources.append(source)
        }
        SignalSources.keep(sources)
    }
}

/// Keeps the signal sources alive for the life of the process.
private enum SignalSources {
    nonisolated(unsafe) static var retained: [DispatchSourceSignal] = []  // written once, on the main command's path
    static func keep(_ sources: [DispatchSourceSignal]) { retained.append(contentsOf: sources) }
}

import Kafka

/// A flag that can be claimed once, from any thread.
final class OnceFlag: Sendable {
    private let claimed = Locked(false)
    /// Whether ``claim()`` has been called.
    var isClaimed: Bool { claimed.withLock { $0 } }

    func claim() -> Bool {
        claimed.withLock { value in
            if value { return false }
            value = true
            return true
        }
    }
}
