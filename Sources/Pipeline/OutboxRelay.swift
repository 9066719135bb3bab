import Kafka
import Logging

/// Publishes the outbox to Kafka with the idempotent producer and marks what was delivered.
///
/// At-least-once by design: a crash between "delivered" and "marked sent" publishes those rows
/// again after restart. Every output carries a deterministic id (`ce_id`, `audit_id`), so
/// consumers recognize the copies; nothing is ever lost.
public final class OutboxRelay: Sendable {
    private let outbox: any Outbox
    private let producer: KafkaProducer
    private let logger: Logger
    private let executor = DispatchExecutor(label: "crmsync.relay.store")
    private let wakeups = Locked<Wakeup>(Wakeup())
    private let stopping = Locked(false)
    /// The retry wait in progress, which ``stop()`` cuts short.
    private let retryWait = Locked<Task<Void, Never>?>(nil)
    private let backoff: Backoff
    public let batchSize: Int

    private struct Wakeup {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// - Parameter backoff: the waits between failed rounds (full jitter).
    public init(outbox: any Outbox, producer: KafkaProducer, logger: Logger, batchSize: Int = 500,
                backoff: Backoff = Backoff(baseMilliseconds: 200, capMilliseconds: 30_000)) {
        self.outbox = outbox
        self.producer = producer
        self.logger = logger
        self.batchSize = batchSize
        self.backoff = backoff
    }

    /// Asks the relay to look at the outbox now (after a batch commits).
    public func wake() {
        let waiter = wakeups.withLock { state -> CheckedContinuation<Void, Never>? in
            state.pending = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The graceful stop: ``run()`` drains the outbox once more and returns (at once, also when it
    /// was waiting to retry a failed round).
    public func stop() {
        stopping.withLock { $0 = true }
        wake()
        retryWait.withLock { $0 }?.cancel()
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    /// Publishes everything unsent, then waits for ``wake()``; returns when the task is
    /// cancelled or ``stop()`` is called, after a final drain.
    public func run() async throws {
        // Rows written by other processes (`crmsync review approve`) are picked up within a second.
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                self?.wake()
            }
        }
        defer { ticker.cancel() }
        var failures = 0
        while !Task.isCancelled, !isStopping {
            do {
                try await drain()
                failures = 0
                await waitForWake()
            } catch let fatal as KafkaError where fatal.isFatal {
                // The idempotent producer is unusable and retrying would never publish again:
                // stop (the processor stops after its batch in flight); the rows stay in the
                // outbox for the restarted process.
                logger.critical("ALARM outbox relay: fatal producer error, stopping crmsync run: \(fatal)")
                throw fatal
            } catch {
                // Never give up: the rows stay in the outbox and are published once Kafka (or
                // the store) is back. The processor keeps committing meanwhile; nothing is lost.
                let delay = backoff.delay(attempt: failures)
                failures += 1
                logger.error("outbox relay: \(error); retrying in \(delay) ms (attempt \(failures))")
                await waitToRetry(milliseconds: delay)
            }
        }
        try await drain()
    }

    /// Publishes unsent records until the outbox is empty. Returns how many were published.
    @discardableResult
    public func drain() async throws -> Int {
        var published = 0
        while true {
            let outbox = self.outbox
            let limit = batchSize
            let records = try await executor.run { try outbox.unsent(limit: limit) }
            if records.isEmpty { return published }
            try await publish(records)
            published += records.count
            logger.info("outbox published", metadata: ["records": "\(records.count)"])
        }
    }

    private func publish(_ records: [OutboxRecord]) async throws {
        // Enqueue all, then wait for every report: the producer keeps per-partition order
        // and (idempotent) never duplicates its own retries.
        let reports = DeliveryTally(expected: records.count)
        var refusedAlone: Set<Int64> = []
        for record in records {
            do {
                try await producer.send(record.message) { reports.record(id: record.id, $0) }
            } catch {
                // Refused before it left (e.g. larger than message.max.bytes): its own report.
                guard Self.isUndeliverable(error) else { throw error }
                refusedAlone.insert(record.id)
                reports.record(id: record.id, .failure(error))
            }
        }
        var failures = await reports.wait()
        // A golden row a newer version of its key overtook must not be sent after it.
        for id in GoldenOrder.superseded(records, failed: Set(failures.keys)) {
            logger.notice("outbox record \(id): a newer version of its golden document was delivered first; not re-sent (superseded)",
                          metadata: records.first { $0.id == id }?.logMetadata)
            failures[id] = nil
        }
        // A broker refuses a whole produce request for one oversized record, and librdkafka does
        // not split it: before parking a row the broker refused, send it alone, in order.
        for id in failures.filter({ Self.isUndeliverable($0.value) && !refusedAlone.contains($0.key) }).keys.sorted() {
            guard let record = records.first(where: { $0.id == id }) else { continue }
            do {
                try await producer.send(record.message)
                failures[id] = nil
            } catch {
                failures[id] = error
            }
        }
        // A record the broker will never accept is parked, or it would block every row behind
        // it forever; it stays in the outbox for the operator (`crmsync stats`).
        let parked = failures.filter { Self.isUndeliverable($0.value) }
        for (id, error) in parked.sorted(by: { $0.key < $1.key }) {
            let record = records.first { $0.id == id }
            let outbox = self.outbox
            let reason = "\(error)"
            try await executor.run { try outbox.park(id, reason: reason) }
            logger.error("ALARM outbox record \(id) to \(record?.message.topic ?? "?") (\(record?.message.value?.count ?? 0) bytes) parked as undeliverable: \(error)",
                         metadata: record?.logMetadata)
        }
        // Only the prefix before the first retriable failure counts as sent: a later row of the
        // same key must not overtake an earlier one that is published again next round (on a
        // compacted topic the older version would win). Parked rows do not hold the prefix.
        let retriable = failures.filter { parked[$0.key] == nil }
        let delivered = Array(records.map(\.id).sorted().prefix { retriable[$0] == nil }.filter { parked[$0] == nil })
        if !delivered.isEmpty {
            let outbox = self.outbox
            try await executor.run { try outbox.markSent(delivered) }
        }
        if let (id, error) = retriable.min(by: { $0.key < $1.key }) {
            logger.warning("outbox record \(id) not delivered yet: \(error); will retry", metadata: records.first { $0.id == id }?.logMetadata)
            throw error
        }
    }

    /// Errors that concern the record itself and will not go away by retrying it (size and
    /// validity). Everything else — unknown topic, authorization, broker outages — is about the
    /// cluster or configuration, and parking would only spread it over every row: retry.
    static func isUndeliverable(_ error: any Error) -> Bool {
        guard let error = error as? KafkaError else { return false }
        return [KafkaErrorCode.messageTooLarge, KafkaErrorCode.recordListTooLarge, KafkaErrorCode.invalidRecord].contains(error.code)
    }

    /// Waits `milliseconds` before the next round, unless ``stop()`` or a cancellation ends it first.
    private func waitToRetry(milliseconds: UInt64) async {
        let wait = Task<Void, Never> { try? await Task.sleep(nanoseconds: milliseconds * 1_000_000) }
        retryWait.withLock { $0 = wait }
        // A stop() before the line above saw no wait to cancel, so look at the flag after it.
        if isStopping { wait.cancel() }
        await withTaskCancellationHandler {
            await wait.value
        } onCancel: {
            wait.cancel()
        }
        retryWait.withLock { $0 = nil }
    }

    private func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = wakeups.withLock { state -> Bool in
                    if state.pending || Task.isCancelled || self.isStopping {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
        wakeups.withLock { $0.pending = false }
    }
}

/// Collects the delivery reports of one round of sends (keyed by the caller's ids).
final class DeliveryTally: Sendable {
    private struct State {
        var expected: Int?
        var received = 0
        var failures: [Int64: KafkaError] = [:]
        var waiter: CheckedContinuation<[Int64: KafkaError], Never>?
    }

    private let state: Locked<State>

    /// `expected`: how many reports the round will get, or `nil` until ``settle(sent:)`` says.
    init(expected: Int? = nil) {
        state = Locked(State(expected: expected))
    }

    func record(id: Int64, _ result: Result<DeliveryReport, KafkaError>) {
        let finished = state.withLock { state -> (CheckedContinuation<[Int64: KafkaError], Never>, [Int64: KafkaError])? in
            if case .failure(let error) = result { state.failures[id] = error }
            state.received += 1
            guard state.received == state.expected, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, state.failures)
        }
        finished.map { $0.0.resume(returning: $0.1) }
    }

    /// Waits for the expected number of reports; returns the failures by id.
    func wait() async -> [Int64: KafkaError] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [Int64: KafkaError]? in
                if state.received == state.expected { return state.failures }
                state.waiter = continuation
                return nil
            }
            ready.map { continuation.resume(returning: $0) }
        }
    }

    /// Fixes the round at `sent` records and waits for their reports.
    func settle(sent: Int) async -> [Int64: KafkaError] {
        state.withLock { $0.expected = sent }
        return await wait()
    }
}
