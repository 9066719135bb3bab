import Store

/// What one batch did, in the terms operators count (metrics): filled by the write stage where
/// it decides each outcome, returned with the batch (``BatchResult/summary``), never persisted.
public struct BatchSummary: Sendable, Hashable {
    /// One input event's outcome with where it came from (the store's hour buckets use the same
    /// key). `system` is `unknown` for a message that failed before a vendor system could be
    /// read from it.
    public typealias EventKey = EventCountKey

    /// An applied event's age when it was applied: `occurred_at` to the write, in seconds.
    public struct AppliedLatency: Sendable, Hashable {
        public var source: String
        public var system: String
        public var seconds: Double

        public init(source: String, system: String, seconds: Double) {
            self.source = source
            self.system = system
            self.seconds = seconds
        }
    }

    /// Outcomes by source, system and outcome.
    public var events: [EventKey: Int] = [:]
    /// Dead letters by error class (`crmsync.error.class`).
    public var deadLetters: [String: Int] = [:]
    /// Values the ownership policy refused, by field and rule.
    public var rejections: [FieldRule: Int] = [:]
    /// Records merged into a survivor.
    public var merges = 0
    /// One entry per applied event.
    public var appliedLatencies: [AppliedLatency] = []
    /// Wall-clock seconds the write stage spent on the batch (its transaction included).
    public var writeSeconds: Double = 0

    /// A field and the ownership rule that refused a value for it.
    public struct FieldRule: Sendable, Hashable {
        public var field: String
        public var rule: String

        public init(field: String, rule: String) {
            self.field = field
            self.rule = rule
        }
    }

    public init() {}

    /// Adds `other`'s counts to these.
    mutating func add(_ other: BatchSummary) {
        events.merge(other.events, uniquingKeysWith: +)
        deadLetters.merge(other.deadLetters, uniquingKeysWith: +)
        rejections.merge(other.rejections, uniquingKeysWith: +)
        merges += other.merges
        appliedLatencies += other.appliedLatencies
    }

    /// The sources and systems this batch applied events of (the store's last-applied times).
    public var appliedSystems: Set<SourceSystem> {
        Set(appliedLatencies.map { SourceSystem(source: $0.source, system: $0.system) })
    }

    mutating func count(_ outcome: String, source: String, system: String?) {
        events[EventKey(source: source, system: system ?? "unknown", outcome: outcome), default: 0] += 1
    }
}

/// What ``WriteStage/applyResolved`` wrote: the record, how many records it absorbed, and the
/// values the ownership policy refused.
struct AppliedWrite {
    var goldenID: String
    var merged: Int
    var rejected: [BatchSummary.FieldRule]
}
