/// What `crmsync bench --json` prints. The top-level keys `events`, `throughput_eps`,
/// `latency_ms`, `peak_rss_mb` and `ceiling` are the contract's; the rest adds detail.
public struct BenchReport: Codable, Sendable {
    /// Source messages drained in the first scale point (the headline figure).
    public var events: Int
    /// Drain throughput of the first scale point, source messages per second.
    public var throughputEPS: Double
    /// Latency at the first steady rate of the first scale point.
    public var latencyMS: Percentiles
    /// Highest peak RSS of `crmsync run` over every point, MiB.
    public var peakRSSMB: Double
    public var ceiling: Ceiling
    /// Throughput over the lower of the two ceilings.
    public var ratioToCeiling: Double
    public var points: [ScalePoint]
    public var machine: Machine

    public struct Percentiles: Codable, Sendable {
        public var p50: Double?
        public var p99: Double?
        public init(p50: Double?, p99: Double?) {
            self.p50 = p50
            self.p99 = p99
        }
    }

    public struct Ceiling: Codable, Sendable {
        /// Messages per second our Kafka wrapper consumes from the dev broker.
        public var consumeEPS: Double
        /// Lookup + upsert + audit-insert units per second SQLite does (see ``StoreCeiling``).
        public var storeEPS: Double
        public init(consumeEPS: Double, storeEPS: Double) {
            self.consumeEPS = consumeEPS
            self.storeEPS = storeEPS
        }
        enum CodingKeys: String, CodingKey {
            case consumeEPS = "consume_eps"
            case storeEPS = "store_eps"
        }
    }

    /// One run of the pipeline over a store that already held `records` golden records.
    public struct ScalePoint: Codable, Sendable {
        public var records: Int
        public var seedSeconds: Double
        public var events: Int
        public var throughputEPS: Double
        public var latency: [RateLatency]
        public var peakRSSMB: Double
        public var storeBytes: Int
        public var storeRecords: Int
        public var bytesPerRecord: Double
        public var bytesPerEvent: Double
        /// `crmsync stats` outcome counts after the point (applied, duplicate, review, dead_lettered).
        public var outcomes: [String: Int]

        public init(records: Int, seedSeconds: Double, events: Int, throughputEPS: Double, latency: [RateLatency], peakRSSMB: Double,
                    storeBytes: Int, storeRecords: Int, bytesPerRecord: Double, bytesPerEvent: Double, outcomes: [String: Int]) {
            self.records = records
            self.seedSeconds = seedSeconds
            self.events = events
            self.throughputEPS = throughputEPS
            self.latency = latency
            self.peakRSSMB = peakRSSMB
            self.storeBytes = storeBytes
            self.storeRecords = storeRecords
            self.bytesPerRecord = bytesPerRecord
            self.bytesPerEvent = bytesPerEvent
            self.outcomes = outcomes
        }

        enum CodingKeys: String, CodingKey {
            case records, events, latency, outcomes
            case seedSeconds = "seed_seconds"
            case throughputEPS = "throughput_eps"
            case peakRSSMB = "peak_rss_mb"
            case storeBytes = "store_bytes"
            case storeRecords = "store_records"
            case bytesPerRecord = "bytes_per_record"
            case bytesPerEvent = "bytes_per_event"
        }
    }

    /// Publish → audit event latency at a steady publishing rate.
    public struct RateLatency: Codable, Sendable {
        public var rate: Int
        /// Messages published at that rate, and audit events matched to them by event id (a
        /// message may carry several events; one that changes nothing writes no audit event).
        public var published: Int
        public var matched: Int
        public var p50: Double?
        public var p99: Double?
        public init(rate: Int, published: Int, matched: Int, p50: Double?, p99: Double?) {
            self.rate = rate
            self.published = published
            self.matched = matched
            self.p50 = p50
            self.p99 = p99
        }
    }

    public struct Machine: Codable, Sendable {
        public var cores: Int
        public var build: String
        public init(cores: Int, build: String) {
            self.cores = cores
            self.build = build
        }
    }

    public init(points: [ScalePoint], ceiling: Ceiling, machine: Machine) {
        self.points = points
        self.ceiling = ceiling
        self.machine = machine
        let first = points.first
        events = first?.events ?? 0
        throughputEPS = first?.throughputEPS ?? 0
        latencyMS = Percentiles(p50: first?.latency.first?.p50, p99: first?.latency.first?.p99)
        peakRSSMB = points.map(\.peakRSSMB).max() ?? 0
        let lower = min(ceiling.consumeEPS, ceiling.storeEPS)
        ratioToCeiling = lower > 0 ? throughputEPS / lower : 0
    }

    enum CodingKeys: String, CodingKey {
        case events, ceiling, points, machine
        case throughputEPS = "throughput_eps"
        case latencyMS = "latency_ms"
        case peakRSSMB = "peak_rss_mb"
        case ratioToCeiling = "ratio_to_ceiling"
    }
}
