import CRMModel
import Kafka
import Pipeline
import Store

/// The store's outbox as the relay sees it, timing each row from written to published
/// (consumed → published) and each round from read to marked sent, into ``PipelineMetrics``.
public struct MeasuredOutbox: Outbox {
    private let store: any GoldenStore
    private let metrics: PipelineMetrics
    private let clock: Clock
    private let inner: StoreOutbox
    /// When each row handed to the relay was written, and when the round started (ms).
    private let pending = Locked<(written: [Int64: Int64], roundStarted: Int64)>(([:], 0))

    public init(store: any GoldenStore, metrics: PipelineMetrics, clock: Clock = .system) {
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.inner = StoreOutbox(store: store, clock: clock)
    }

    public func unsent(limit: Int) throws -> [OutboxRecord] {
        let entries = try store.read { try $0.unsentOutbox(limit: limit) }
        let started = clock.now().epochMilliseconds
        pending.withLock { state in
            state.roundStarted = started
            for entry in entries { state.written[entry.id] = entry.message.createdAt.epochMilliseconds }
        }
        return entries.map { OutboxRecord(id: $0.id, message: $0.message.producerMessage) }
    }

    public func markSent(_ ids: [Int64]) throws {
        try inner.markSent(ids)
        let now = clock.now().epochMilliseconds
        let (ages, round) = pending.withLock { state -> ([Double], Double) in
            let ages = ids.compactMap { state.written.removeValue(forKey: $0) }.map { Double(now - $0) / 1_000 }
            return (ages, Double(now - state.roundStarted) / 1_000)
        }
        metrics.recordPublished(ages: ages, seconds: round)
    }

    public func park(_ id: Int64, reason: String) throws {
        try inner.park(id, reason: reason)
        _ = pending.withLock { $0.written.removeValue(forKey: id) }
    }
}
