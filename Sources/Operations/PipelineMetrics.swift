import Kafka
import Metrics
import Pipeline
import Prometheus

/// crmsync's metrics, recorded through swift-metrics into a Prometheus registry owned by this
/// value (no global `MetricsSystem` bootstrap, so every test and process has its own).
///
/// Counters count what this process did since it started (Prometheus handles the reset at a
/// restart: `rate()` and `increase()` see it); the gauges of ``StoreGauges`` are read from the
/// store at scrape time and survive restarts.
public final class PipelineMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// System label values handed out so far (see ``systemLabel(_:)``).
    private let systems = Locked<Set<String>>([])

    /// How many distinct producing systems get a label value of their own; later ones share
    /// `other`. Canonical events name their own system, so a publisher inventing names must not
    /// grow /metrics without bound.
    public static let maxSystems = 16

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Event age at apply time spans milliseconds (live) to days (a replayed backlog).
        factory.durationHistogramBuckets[Name.applyLatency] = [
            .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60),
            .seconds(300), .seconds(900), .seconds(3_600), .seconds(21_600), .seconds(86_400),
        ]
        factory.durationHistogramBuckets[Name.publishLatency] = [
            .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(5), .seconds(30), .seconds(120), .seconds(600),
        ]
        self.factory = factory
    }

    /// Metric names, in one place for the alert rules, dashboard and docs to agree with.
    public enum Name {
        public static let events = "crmsync_events_total"
        public static let deadLetters = "crmsync_dead_letters_total"
        public static let duplicates = "crmsync_duplicates_prevented_total"
        public static let rejections = "crmsync_ownership_rejections_total"
        public static let merges = "crmsync_merges_total"
        public static let batches = "crmsync_batches_total"
        public static let stageDuration = "crmsync_stage_duration_seconds"
        public static let applyLatency = "crmsync_event_apply_latency_seconds"
        public static let publishLatency = "crmsync_publish_latency_seconds"
        public static let published = "crmsync_outbox_published_total"
    }

    /// Counts one committed batch.
    public func record(_ result: BatchResult) {
        let summary = result.summary
        Counter(label: Name.batches, factory: factory).increment()
        for (key, count) in summary.events {
            Counter(label: Name.events, dimensions: [("source", key.source), ("system", systemLabel(key.system)), ("outcome", key.outcome)],
                    factory: factory).increment(by: count)
            if key.outcome == "duplicate" {
                Counter(label: Name.duplicates, dimensions: [("source", key.source)], factory: factory).increment(by: count)
            }
        }
        for (errorClass, count) in summary.deadLetters {
            Counter(label: Name.deadLetters, dimensions: [("class", errorClass)], factory: factory).increment(by: count)
        }
        for (key, count) in summary.rejections {
            Counter(label: Name.rejections, dimensions: [("field", key.field), ("rule", key.rule)], factory: factory).increment(by: count)
        }
        if summary.merges > 0 {
            Counter(label: Name.merges, factory: factory).increment(by: summary.merges)
        }
        Timer(label: Name.stageDuration, dimensions: [("stage", "write")], factory: factory)
            .recordNanoseconds(Self.nanoseconds(summary.writeSeconds))
        for latency in summary.appliedLatencies {
            Timer(label: Name.applyLatency, dimensions: [("source", latency.source)], factory: factory)
                .recordNanoseconds(Self.nanoseconds(latency.seconds))
        }
    }

    /// Counts one relay round: `ages` are the published rows' seconds from written to delivered
    /// (consumed → published), `seconds` the round's duration.
    public func recordPublished(ages: [Double], seconds: Double) {
        guard !ages.isEmpty else { return }
        Counter(label: Name.published, factory: factory).increment(by: ages.count)
        Timer(label: Name.stageDuration, dimensions: [("stage", "publish")], factory: factory)
            .recordNanoseconds(Self.nanoseconds(seconds))
        let latency = Timer(label: Name.publishLatency, factory: factory)
        for age in ages { latency.recordNanoseconds(Self.nanoseconds(age)) }
    }

    /// The `system` label value for `system`: itself while fewer than ``maxSystems`` have been seen
    /// (`unknown`, a message that failed before its system was read, always), else `other`.
    public func systemLabel(_ system: String) -> String {
        guard system != "unknown" else { return system }
        return systems.withLock { seen in
            if seen.contains(system) { return system }
            guard seen.count < Self.maxSystems else { return "other" }
            seen.insert(system)
            return system
        }
    }

    /// Sets a gauge (read at scrape time).
    public func set(_ name: String, _ dimensions: [(String, String)] = [], to value: Double) {
        Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }

    /// The Prometheus text exposition of everything recorded.
    public func render() -> String {
        registry.emitToString()
    }

    /// Clock skew can put `occurred_at` after the write: such an event counts as age 0.
    static func nanoseconds(_ seconds: Double) -> Int64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int64(min(seconds, 9e9) * 1e9)
    }
}
