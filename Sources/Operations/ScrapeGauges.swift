import CRMModel
import Kafka
import Pipeline
import Store

/// Gauges read at scrape time: from the store (they survive restarts), the consumer's lag
/// (the brokers' log ends against the store's offsets) and readiness.
public struct ScrapeGauges: Sendable {
    public enum Name {
        public static let outboxBacklog = "crmsync_outbox_backlog"
        public static let outboxOldestAge = "crmsync_outbox_oldest_unsent_age_seconds"
        public static let outboxParked = "crmsync_outbox_parked"
        public static let reviewDepth = "crmsync_review_queue_depth"
        public static let alarms = "crmsync_alarms"
        public static let lastApplied = "crmsync_last_applied_timestamp_seconds"
        public static let consumerLag = "crmsync_consumer_lag"
        public static let ready = "crmsync_ready"
        public static let storeReadable = "crmsync_store_up"
    }

    private let store: SQLiteStore
    private let processor: Processor?
    private let readiness: ReadinessProbe?
    private let clock: Clock

    public init(store: SQLiteStore, processor: Processor?, readiness: ReadinessProbe?, clock: Clock = .system) {
        self.store = store
        self.processor = processor
        self.readiness = readiness
        self.clock = clock
    }

    /// Sets every gauge in `metrics` from the current state.
    public func collect(into metrics: PipelineMetrics) async {
        do {
            let snapshot = try store.operationsSnapshot()
            let now = clock.now()
            metrics.set(Name.storeReadable, to: 1)
            metrics.set(Name.outboxBacklog, to: Double(snapshot.outboxUnsent))
            let oldestAge = snapshot.oldestUnsentAt.map { Double(max(0, now.epochMilliseconds - $0.epochMilliseconds)) / 1_000 } ?? 0
            metrics.set(Name.outboxOldestAge, to: oldestAge)
            metrics.set(Name.outboxParked, to: Double(snapshot.outboxParked))
            metrics.set(Name.reviewDepth, to: Double(snapshot.openReviews))
            for (kind, count) in snapshot.alarms {
                metrics.set(Name.alarms, [("kind", kind.rawValue)], to: Double(count))
            }
            // Systems beyond the label cap share `other`, which then shows the latest of them.
            var lastApplied: [SourceSystem: Timestamp] = [:]
            for (pair, at) in snapshot.lastAppliedBySystem.sorted(by: { $0.key < $1.key }) {
                let labelled = SourceSystem(source: pair.source, system: metrics.systemLabel(pair.system))
                lastApplied[labelled] = max(lastApplied[labelled] ?? at, at)
            }
            for (pair, at) in lastApplied {
                metrics.set(Name.lastApplied, [("source", pair.source), ("system", pair.system)], to: Double(at.epochMilliseconds) / 1_000)
            }
        } catch {
            metrics.set(Name.storeReadable, to: 0)
        }
        if let processor {
            let probe = await processor.probe()
            if let stored = try? processor.storedOffsets(for: Array(probe.logEnds.keys)) {
                for (partition, end) in probe.logEnds {
                    let lag = max(0, end - (stored[partition] ?? 0))
                    metrics.set(Name.consumerLag, [("topic", partition.topic), ("partition", String(partition.partition))], to: Double(lag))
                }
            }
        }
        if let readiness {
            metrics.set(Name.ready, to: await readiness.report().ready ? 1 : 0)
        }
    }
}
