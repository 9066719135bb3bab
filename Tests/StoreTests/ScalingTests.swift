import CRMModel
import Dedup
import Foundation
import GRDB
import Store
import Testing

@Suite("Store at 1M golden records")
struct ScalingTests {
    static let recordCount = 1_000_000

    /// Fills the store directly in SQL (one transaction, keys in index order) so the load takes
    /// seconds even in a debug build: 1M records, each with a crosswalk entry, email and phone identifiers
    /// (name-company keys for a tenth), a remembered event and an audit head; plus merges, reviews and
    /// an outbox with sent and unsent rows.
    static func load(_ store: SQLiteStore) throws {
        try store.writeRaw { db in
            try db.execute(sql: "PRAGMA cache_size = -262144")
            let n = recordCount
            try db.execute(sql: """
                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(n))
                INSERT INTO records (id, entity, version, fields, provenance, consent, policy_state, deleted_at, merged_into, created_at, updated_at)
                SELECT printf('c-%08d', n), 'contact', 1, printf('{"email":"p%08d@corp%04d.com"}', n, n % 5000), '{}', '[]', x'',
                       NULL, CASE WHEN n % 100 = 0 THEN printf('c-%08d', n - 1) END, 0, 0 FROM seq;

                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(n))
                INSERT INTO crosswalk (entity, system, external_id, golden_id, event_id, linked_at)
                SELECT 'contact', 'salesforce', printf('003%08d', n), printf('c-%08d', n), printf('e%08d', n), 0 FROM seq;

                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(n))
                INSERT INTO identifiers (entity, kind, value, golden_id)
                SELECT 'contact', 'email', printf('p%08d@corp%04d.com', n, n % 5000), printf('c-%08d', n) FROM seq
                UNION ALL
                SELECT 'contact', 'phone', printf('+1415%07d', n), printf('c-%08d', n) FROM seq
                UNION ALL
                -- Tier-4 keys for one record in ten (enough depth for the plan, half the load time).
                SELECT 'contact', 'name_company', printf('first%d|last%d|corp%04d.com', n % 997, n % 1009, n % 5000), printf('c-%08d', n)
                FROM seq WHERE n % 10 = 0;

                -- Emails and phones are unique here (count 1); name-company keys repeat.
                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(n))
                INSERT INTO identifier_counts (entity, kind, value, record_count)
                SELECT 'contact', 'email', printf('p%08d@corp%04d.com', n, n % 5000), 1 FROM seq
                UNION ALL
                SELECT 'contact', 'phone', printf('+1415%07d', n), 1 FROM seq;
                INSERT INTO identifier_counts (entity, kind, value, record_count)
                SELECT entity, kind, value, count(*) FROM identifiers WHERE entity = 'contact' AND kind = 'name_company'
                GROUP BY entity, kind, value;

                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(n))
                INSERT INTO events (system, event_id, source, outcome, golden_id, seen_at)
                SELECT 'salesforce', printf('e%08d', n), 'crm', 'applied', printf('c-%08d', n), n FROM seq;

                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(n))
                INSERT INTO audit_heads (golden_id, seq, last_hash) SELECT printf('c-%08d', n), 1, 'h' FROM seq;

                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(n / 100))
                INSERT INTO merges (survivor_id, absorbed_id, reason, event_id, merged_at, absorbed_external_ids)
                SELECT printf('c-%08d', n * 100 - 1), printf('c-%08d', n * 100), 'shared_identifier', NULL, 0, '{}' FROM seq;

                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 20000)
                INSERT INTO review_requests (id, golden_id, kind, status, reason, event_id, payload, candidates, created_at, resolved_at)
                SELECT printf('rv-%08d', n), printf('c-%08d', n), 'identity', CASE WHEN n % 10 = 0 THEN 'open' ELSE 'approved' END,
                       'conflict', printf('e%08d', n), '{}', '[]', n, NULL FROM seq;

                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 200000)
                INSERT INTO outbox (topic, key, value, headers, created_at, sent_at)
                SELECT 'audit.events.v1', CAST(printf('c-%08d', n) AS BLOB), x'7b7d', '[]', n,
                       CASE WHEN n <= 199000 THEN n END FROM seq;
                """)
        }
    }

    @Test("every hot-path query uses an index at 1M records (EXPLAIN QUERY PLAN), and lookups stay fast")
    func hotPathUsesIndexes() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("big.sqlite"))
        let started = Date()
        try Self.load(store)
        let loadSeconds = Date().timeIntervalSince(started)
        let counts = try store.read { try $0.recordCounts() }
        #expect(counts[.contact] == Self.recordCount - Self.recordCount / 100)

        for analyzed in [false, true] {
            if analyzed { try store.writeRaw { try $0.execute(sql: "ANALYZE") } }
            let plans = try store.hotPathQueryPlans()
            #expect(plans.count >= 20)
            for (name, sql, plan) in plans {
                #expect(!plan.isEmpty, "no plan for \(name)")
                for line in plan {
                    // A SCAN is only acceptable through an index (the partial unsent-outbox index
                    // holds only unsent rows); a bare `SCAN <table>` reads the whole table.
                    let bareScan = line.hasPrefix("SCAN ") && !line.contains("USING")
                    #expect(!bareScan, "\(name) scans (analyzed: \(analyzed)): \(line)\n\(sql)")
                }
                let usesIndex = plan.contains { $0.contains("USING") && ($0.contains("INDEX") || $0.contains("PRIMARY KEY")) }
                #expect(usesIndex, "\(name) names no index: \(plan)")
            }
            print("[store scaling] analyzed=\(analyzed) " + plans.map { "\($0.name): \($0.plan.joined(separator: " / "))" }.joined(separator: "; "))
        }

        // The real hot path on the big store: resolve events through the transaction's lookups.
        let resolver = try IdentityResolver()
        let lookups = 2000
        let resolveStarted = Date()
        let decisions = try store.read { reader in
            try (0..<lookups).map { index -> IdentityDecision in
                let n = 1 + (index * 7919) % Self.recordCount
                let event = NormalizedEvent(
                    event: CanonicalEvent(eventID: "x\(index)", source: .map, system: "hubspot", type: EventType(.contact, .upserted),
                                          occurredAt: Timestamp(epochMilliseconds: 0), externalID: "h\(index)"),
                    matchKeys: MatchKeys(email: String(format: "p%08d@corp%04d.com", n, n % 5000), phone: String(format: "+1415%07d", n)))
                return try resolver.resolve(event, lookup: reader).decision
            }
        }
        let resolveSeconds = Date().timeIntervalSince(resolveStarted)
        let matched = decisions.filter { if case .existing = $0 { true } else { false } }.count
        print("[store scaling] records=\(Self.recordCount) load=\(String(format: "%.1f", loadSeconds))s "
              + "resolve \(lookups) events=\(String(format: "%.3f", resolveSeconds))s "
              + "(\(String(format: "%.0f", resolveSeconds / Double(lookups) * 1_000_000))µs each), matched=\(matched)")
        // Every sampled email is carried by exactly one record (generated data does not move the
        // identifiers of the 1% tombstones, so those match their own id).
        #expect(matched == lookups)
        #expect(resolveSeconds < 20)
    }
}
