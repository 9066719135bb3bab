import Foundation
import Operations
import Pipeline
import Testing

@Suite("PipelineMetrics")
struct PipelineMetricsTests {
    func summary(applied: Int, deadLetters: Int, latency: Double) -> BatchSummary {
        var summary = BatchSummary()
        summary.events[.init(source: "crm", system: "salesforce", outcome: "applied")] = applied
        summary.events[.init(source: "crm", system: "unknown", outcome: "dead_lettered")] = deadLetters
        summary.deadLetters["schema"] = deadLetters
        summary.appliedLatencies = (0..<applied).map { _ in .init(source: "crm", system: "salesforce", seconds: latency) }
        return summary
    }

    @Test("two batches add up, exactly, per label set; latencies land in their buckets")
    func counts() {
        let metrics = PipelineMetrics()
        metrics.record(BatchResult(nextOffsets: [:], outcomes: [:], summary: summary(applied: 3, deadLetters: 1, latency: 0.2)))
        metrics.record(BatchResult(nextOffsets: [:], outcomes: [:], summary: summary(applied: 2, deadLetters: 0, latency: 30)))
        let text = metrics.render()
        #expect(text.contains(#"crmsync_events_total{source="crm",system="salesforce",outcome="applied"} 5"#), "\(text)")
        #expect(text.contains(#"crmsync_events_total{source="crm",system="unknown",outcome="dead_lettered"} 1"#))
        #expect(text.contains(#"crmsync_dead_letters_total{class="schema"} 1"#))
        #expect(text.contains("crmsync_batches_total 2"))
        #expect(text.contains(#"crmsync_event_apply_latency_seconds_count{source="crm"} 5"#))
        #expect(text.contains(#"crmsync_event_apply_latency_seconds_bucket{source="crm",le="0.5"} 3"#))
        #expect(text.contains(#"crmsync_event_apply_latency_seconds_bucket{source="crm",le="60.0"} 5"#))
    }

    @Test("merges, ownership rejections by field and rule, and relay rounds")
    func mergesRejectionsAndPublishing() {
        let metrics = PipelineMetrics()
        var summary = BatchSummary()
        summary.merges = 2
        summary.rejections[.init(field: "job_title", rule: "crm-owns")] = 3
        metrics.record(BatchResult(nextOffsets: [:], outcomes: [:], summary: summary))
        metrics.recordPublished(ages: [0.01, 0.2, 3], seconds: 0.05)
        metrics.recordPublished(ages: [], seconds: 0.01)
        let text = metrics.render()
        #expect(text.contains("crmsync_merges_total 2"))
        #expect(text.contains(#"crmsync_ownership_rejections_total{field="job_title",rule="crm-owns"} 3"#))
        #expect(text.contains("crmsync_outbox_published_total 3"))
        #expect(text.contains("crmsync_publish_latency_seconds_count 3"))
        #expect(text.contains(#"crmsync_publish_latency_seconds_bucket{le="0.25"} 2"#), "\(text)")
        #expect(text.contains(#"crmsync_stage_duration_seconds_count{stage="publish"} 1"#), "an empty round is not a round")
    }

    @Test("system label values are capped: the first systems keep their names, later ones share `other`; `unknown` always passes")
    func systemCardinality() {
        let metrics = PipelineMetrics()
        var summary = BatchSummary()
        for index in 0..<(PipelineMetrics.maxSystems + 4) {
            summary.events[.init(source: "crm", system: String(format: "system%02d", index), outcome: "applied")] = 1
        }
        summary.events[.init(source: "crm", system: "unknown", outcome: "dead_lettered")] = 2
        // In name order, as a dictionary's order is not defined.
        for index in 0..<(PipelineMetrics.maxSystems + 4) { _ = metrics.systemLabel(String(format: "system%02d", index)) }
        metrics.record(BatchResult(nextOffsets: [:], outcomes: [:], summary: summary))
        let text = metrics.render()
        let last = String(format: "system%02d", PipelineMetrics.maxSystems - 1)
        #expect(text.contains(#"crmsync_events_total{source="crm",system="\#(last)",outcome="applied"} 1"#), "\(text)")
        #expect(!text.contains(String(format: "system%02d", PipelineMetrics.maxSystems)))
        #expect(text.contains(#"crmsync_events_total{source="crm",system="other",outcome="applied"} 4"#))
        #expect(text.contains(#"crmsync_events_total{source="crm",system="unknown",outcome="dead_lettered"} 2"#))
        #expect(metrics.systemLabel("system00") == "system00", "a system admitted once keeps its name")
    }

    @Test("an event that occurred after it was applied (clock skew) counts as age 0")
    func skew() {
        let metrics = PipelineMetrics()
        metrics.record(BatchResult(nextOffsets: [:], outcomes: [:], summary: summary(applied: 1, deadLetters: 0, latency: -5)))
        #expect(metrics.render().contains(#"crmsync_event_apply_latency_seconds_sum{source="crm"} 0"#))
    }
}
