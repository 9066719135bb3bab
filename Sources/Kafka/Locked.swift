#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a pthread mutex.
///
/// Used instead of `Synchronization.Mutex` because on Linux that one is built on raw
/// futexes, which ThreadSanitizer cannot see: every lock-protected access would be reported
/// as a race. A pthread mutex is visible to TSan, so `swift test --sanitize=thread` checks
/// our locking for real.
///
/// `@unchecked Sendable` is sound: `value` is only reachable inside ``withLock(_:)``, which
/// holds the mutex for the whole access, and the mutex itself lives at a stable heap address
/// allocated in `init` and freed in `deinit`.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let err = pthread_mutex_init(mutex, nil)
        precondition(err == 0, "pthread_mutex_init failed: \(err)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
