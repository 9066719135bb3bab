import CRdKafka
import Dispatch
import Logging

extension String {
    /// Decodes a NUL-terminated C buffer filled in by librdkafka (`errstr` arguments).
    init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}

/// An `rd_kafka_t` pointer that may cross concurrency domains.
///
/// `@unchecked Sendable` is sound because librdkafka documents `rd_kafka_t` as thread-safe:
/// every public `rd_kafka_*` function may be called from any thread concurrently, except
/// `rd_kafka_destroy`, which ``NativeClient`` calls exactly once after its users are done.
struct KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Runs librdkafka calls that can block (poll, flush, commit, metadata, close) on one
/// dedicated serial dispatch queue, so they never occupy a thread of Swift's cooperative pool.
final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(E) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` on the queue and waits for it; only for synchronous teardown paths (deinit).
    func runAndWait<T>(_ body: () -> T) -> T {
        queue.sync(execute: body)
    }

    func async(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }
}

/// State reachable from librdkafka's C callbacks through the instance opaque pointer.
///
/// Callbacks run on librdkafka's threads or on our executor; everything mutable sits behind
/// a ``Locked`` box, so the class is genuinely `Sendable`.
final class ClientContext: Sendable {
    let logger: Logger
    let name: String
    /// The most recent fatal error reported by librdkafka, if any.
    let fatalError = Locked<KafkaError?>(nil)
    /// Invoked for every error librdkafka reports through `error_cb` (after logging).
    let errorObserver = Locked<(@Sendable (KafkaError) -> Void)?>(nil)
    /// Consumer only: the rebalance machinery.
    let rebalance = Locked<RebalanceBridge?>(nil)

    init(logger: Logger, name: String) {
        self.logger = logger
        self.name = name
    }

    static func from(_ rk: OpaquePointer?) -> ClientContext? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// Owns one `rd_kafka_t` and its context; destroys both exactly once.
final class NativeClient: Sendable {
    let handle: KafkaHandle
    let context: ClientContext
    let executor: BlockingExecutor
    private let destroyed = Locked(false)

    var pointer: OpaquePointer { handle.pointer }

    /// Creates the instance. `configure` may install further callbacks on the conf.
    init(
        type: rd_kafka_type_t,
        configuration: KafkaConfiguration,
        logger: Logger,
        name: String,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        let conf: OpaquePointer
        do {
            conf = try configuration.makeNativeConfiguration()
        } catch {
            throw KafkaError.wrapper("\(error.property): \(error.message)", context: "configure \(name)")
        }
        let context = ClientContext(logger: logger, name: name)
        let opaque = Unmanaged.passRetained(context).toOpaque()
        rd_kafka_conf_set_opaque(conf, opaque)
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, kafkaErrorCallback)
        configure(conf)
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            Unmanaged<ClientContext>.fromOpaque(opaque).release()
            throw KafkaError.wrapper(String(nulTerminated: errstr), context: "create \(name)")
        }
        self.handle = KafkaHandle(pointer: rk)
        self.context = context
        self.executor = BlockingExecutor(label: "crmsync.kafka.\(name)")
    }

    /// The fatal error librdkafka has raised on this instance, if any.
    func currentFatalError(context: String) -> KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(pointer, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(err, context: context, message: String(nulTerminated: errstr), fatal: true)
    }

    /// Runs a short, non-blocking librdkafka call while the instance is guaranteed alive:
    /// ``destroy()`` waits for it, and after destroy it throws instead of touching freed memory.
    func withLiveHandle<T>(context: String, _ body: (OpaquePointer) throws(KafkaError) -> T) throws(KafkaError) -> T {
        try destroyed.withLock { (done: inout Bool) throws(KafkaError) -> T in
            if done { throw KafkaError.wrapper("the client is closed", context: context) }
            return try body(pointer)
        }
    }

    /// Destroys the instance (blocking); later calls do nothing.
    func destroy() {
        destroyed.withLock { done in
            guard !done else { return }
            done = true
            let opaque = rd_kafka_opaque(pointer)
            rd_kafka_destroy(pointer)
            if let opaque {
                Unmanaged<ClientContext>.fromOpaque(opaque).release()
            }
        }
    }

    var isDestroyed: Bool { destroyed.withLock { $0 } }
}

/// Routes librdkafka's log lines into swift-log, mapping syslog levels.
private let kafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { rk, level, facility, buffer in
    guard let context = ClientContext.from(rk) else { return }
    let text = buffer.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    let swiftLevel: Logger.Level
    switch level {
    case ...2: swiftLevel = .critical
    case 3: swiftLevel = .error
    case 4: swiftLevel = .warning
    case 5: swiftLevel = .notice
    case 6: swiftLevel = .info
    default: swiftLevel = .debug
    }
    context.logger.log(level: swiftLevel, "\(text)", metadata: ["kafka.client": "\(context.name)", "kafka.facility": "\(fac)"])
}

/// Receives errors librdkafka cannot attach to a request (broker down, fatal idempotence errors).
private let kafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { rk, code, reason, _ in
    guard let context = ClientContext.from(rk) else { return }
    let err = rd_kafka_resp_err_t(rawValue: code)
    let text = reason.map { String(cString: $0) } ?? ""
    var error = KafkaError(err, context: context.name, message: text)
    if err == RD_KAFKA_RESP_ERR__FATAL, let rk {
        var errstr = [CChar](repeating: 0, count: 512)
        let underlying = rd_kafka_fatal_error(rk, &errstr, errstr.count)
        error = KafkaError(underlying, context: context.name, message: String(nulTerminated: errstr), fatal: true)
        let fatal = error
        context.fatalError.withLock { $0 = fatal }
        context.logger.critical("fatal Kafka error: \(error)")
    } else if err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT {
        // Expected during broker restarts; librdkafka reconnects by itself.
        context.logger.warning("Kafka: \(error)")
    } else {
        context.logger.error("Kafka: \(error)")
    }
    let observer = context.errorObserver.withLock { $0 }
    observer?(error)
}
