import CRdKafka
import Dispatch
import Logging

/// An idempotent Kafka producer over librdkafka.
///
/// - ``send(_:)`` awaits the delivery report and returns where the record landed.
/// - ``send(_:onDelivery:)`` enqueues and returns at once; the callback gets the report.
/// - ``close()`` flushes what is outstanding; every pending callback is called exactly once.
///
/// Delivery reports are served by a poll loop on the producer's own dispatch queue, never on
/// Swift's cooperative pool.
public final class KafkaProducer: Sendable {
    private let client: NativeClient
    private let configuration: ProducerConfiguration
    private let state = Locked(State())

    private struct State {
        var closed = false
        var pollLoopRunning = false
    }

    /// Creates the producer; fails on a configuration librdkafka rejects.
    public init(configuration: ProducerConfiguration, logger: Logger, name: String = "producer") throws(KafkaError) {
        self.configuration = configuration
        client = try NativeClient(type: RD_KAFKA_PRODUCER, configuration: configuration.kafka, logger: logger, name: name) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        }
        startPollLoop()
    }

    deinit {
        shutdownSynchronously()
    }

    /// Produces one record and waits for the broker's acknowledgement.
    ///
    /// - Throws: ``KafkaError``: `.retriable` if the message timed out (after librdkafka's own
    ///   retries), `.permanent` if the broker rejected it, `.fatal` if the producer is broken.
    @discardableResult
    public func send(_ message: ProducerMessage) async throws(KafkaError) -> DeliveryReport {
        let report = OneShot<Result<DeliveryReport, KafkaError>>()
        try await send(message) { report.fulfil($0) }
        return try await report.value.get()
    }

    /// Enqueues one record; `onDelivery` is called exactly once with its outcome, on the
    /// producer's poll thread (keep it short).
    ///
    /// Waits (without blocking a thread) while librdkafka's local queue is full.
    /// - Throws: only if the record could not be enqueued at all (closed producer, fatal
    ///   error, invalid message); then `onDelivery` is not called.
    public func send(
        _ message: ProducerMessage,
        onDelivery: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    ) async throws(KafkaError) {
        var backoffMilliseconds: UInt64 = 1
        while true {
            let err = try enqueue(message, onDelivery: onDelivery)
            guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else { return }
            // The local queue drains as the poll loop serves delivery reports.
            try? await Task.sleep(nanoseconds: backoffMilliseconds * 1_000_000)
            backoffMilliseconds = min(backoffMilliseconds * 2, 100)
            if Task.isCancelled {
                throw KafkaError(RD_KAFKA_RESP_ERR__QUEUE_FULL, context: "produce to \(message.topic)", message: "cancelled while the producer queue was full")
            }
        }
    }

    /// Tries to enqueue once; returns `_QUEUE_FULL` so the caller can wait, throws on other errors.
    private func enqueue(
        _ message: ProducerMessage,
        onDelivery: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    ) throws(KafkaError) -> rd_kafka_resp_err_t {
        let context = "produce to \(message.topic)"
        if state.withLock({ $0.closed }) {
            throw KafkaError.wrapper("producer is closed", context: context)
        }
        if let fatal = client.currentFatalError(context: context) {
            throw fatal
        }
        let box = DeliveryBox(onDelivery)
        let opaque = Unmanaged.passRetained(box).toOpaque()
        let headers = message.headers.makeNativeHeaders()
        let err: rd_kafka_resp_err_t
        do {
            err = try client.withLiveHandle(context: context) { _ in produce(message, headers: headers, opaque: opaque) }
        } catch {
            Unmanaged<DeliveryBox>.fromOpaque(opaque).release()
            if let headers { rd_kafka_headers_destroy(headers) }
            throw error
        }
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            return err
        }
        // Not enqueued: we still own the box and the headers.
        Unmanaged<DeliveryBox>.fromOpaque(opaque).release()
        if let headers { rd_kafka_headers_destroy(headers) }
        if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { return err }
        if let fatal = client.currentFatalError(context: context) { throw fatal }
        throw KafkaError(err, context: context)
    }

    private func produce(_ message: ProducerMessage, headers: OpaquePointer?, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        let partition = message.partition ?? RD_KAFKA_PARTITION_UA
        let timestamp = message.timestampMilliseconds ?? 0
        func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
            guard let bytes else { return body(nil, 0) }
            return withNonNullBytes(bytes) { body($0, $1) }
        }
        return withOptionalBytes(message.key) { keyPointer, keyLength in
            withOptionalBytes(message.value) { valuePointer, valueLength in
                crmsync_produce(
                    client.pointer, message.topic, partition,
                    keyPointer, keyLength, valuePointer, valueLength,
                    headers, timestamp, opaque
                )
            }
        }
    }

    /// Waits until every enqueued record has a delivery report, or the timeout passes.
    /// - Returns: the number of records still outstanding (0 when everything was delivered).
    @discardableResult
    public func flush(timeoutMilliseconds: Int32? = nil) async -> Int32 {
        let timeout = timeoutMilliseconds ?? configuration.flushTimeoutMilliseconds
        let handle = client.handle
        let flushQueue = DispatchQueue(label: "crmsync.kafka.flush")
        return await withCheckedContinuation { continuation in
            flushQueue.async {
                _ = rd_kafka_flush(handle.pointer, Int32(timeout))
                continuation.resume(returning: rd_kafka_outq_len(handle.pointer))
            }
        }
    }

    /// Records enqueued but not yet reported.
    public var outstandingCount: Int32 { rd_kafka_outq_len(client.pointer) }

    /// Flushes (up to the configured timeout), fails whatever is still outstanding with a
    /// `_PURGE_QUEUE`/`_PURGE_INFLIGHT` error, and releases the producer. Idempotent.
    public func close() async {
        guard markClosed() else { return }
        await flush()
        // Stop the poll loop first: it occupies the executor until it sees the flag.
        state.withLock { $0.pollLoopRunning = false }
        await client.executor.run { [self] in self.purgeAndDestroy() }
    }

    /// Triggers a fatal error, as librdkafka's test hook does; only for fault-injection tests.
    public func injectFatalErrorForTesting(code: Int32, reason: String) {
        _ = rd_kafka_test_fatal_error(client.pointer, rd_kafka_resp_err_t(rawValue: code), reason)
    }

    /// Called (on a librdkafka thread) for every error librdkafka reports outside a delivery
    /// report: brokers down, authentication, fatal idempotence errors.
    public func onError(_ observer: @escaping @Sendable (KafkaError) -> Void) {
        client.context.errorObserver.withLock { $0 = observer }
    }

    /// The fatal error that made this producer unusable, if any.
    public var fatalError: KafkaError? { client.currentFatalError(context: "producer") }

    private func markClosed() -> Bool {
        state.withLock { state in
            if state.closed { return false }
            state.closed = true
            return true
        }
    }

    private func startPollLoop() {
        state.withLock { $0.pollLoopRunning = true }
        let handle = client.handle
        client.executor.async { [weak self] in
            // Serve delivery reports, logs and errors until close() stops us.
            while let producer = self, producer.state.withLock({ $0.pollLoopRunning }) {
                _ = producer
                rd_kafka_poll(handle.pointer, 50)
            }
        }
    }

    private func purgeAndDestroy() {
        state.withLock { $0.pollLoopRunning = false }
        guard !client.isDestroyed else { return }
        // Fail what is left so every callback runs once; then serve those reports.
        _ = rd_kafka_purge(client.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        _ = rd_kafka_poll(client.pointer, 0)
        client.destroy()
    }

    private func shutdownSynchronously() {
        state.withLock { $0.closed = true; $0.pollLoopRunning = false }
        guard !client.isDestroyed else { return }
        rd_kafka_flush(client.pointer, configuration.flushTimeoutMilliseconds)
        purgeAndDestroy()
    }
}

/// Carries a delivery callback through librdkafka's per-message opaque pointer.
private final class DeliveryBox: Sendable {
    let callback: @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    init(_ callback: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        self.callback = callback
    }
}

private let deliveryReportCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { rk, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let box = Unmanaged<DeliveryBox>.fromOpaque(opaque).takeRetainedValue()
    let m = message.pointee
    let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        box.callback(.success(DeliveryReport(topic: topic, partition: m.partition, offset: m.offset)))
        return
    }
    var error = KafkaError(m.err, context: "produce to \(topic)")
    if let rk {
        var errstr = [CChar](repeating: 0, count: 512)
        let fatal = rd_kafka_fatal_error(rk, &errstr, errstr.count)
        if fatal != RD_KAFKA_RESP_ERR_NO_ERROR {
            error = KafkaError(fatal, context: "produce to \(topic)", message: String(nulTerminated: errstr), fatal: true)
        }
    }
    box.callback(.failure(error))
}
