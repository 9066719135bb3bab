import CRMModel
import Foundation
import GRDB
import Kafka
import Store

/// Fills a store for `crmsync console bench` quickly and says so: a few hundred records (and a
/// few identity review requests) go through the real write stage, then bulk SQL copies those rows
/// in the store's real schema under new ids until the store holds the asked-for number of
/// golden records. The copies are synthetic (their audit events still name the template record,
/// identifiers get a copy prefix) but the tables, their sizes and their indexes are the real ones.
enum ConsoleBenchFill {
    static let templates = 1_000

    /// Copies the current rows `copies` times; reports progress after each copy.
    static func clone(store: SQLiteStore, copies: Int, progress: (Int) -> Void) throws {
        guard copies > 0 else { return }
        try store.writeRaw { db in
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS template_ids AS SELECT id FROM records")
        }
        for copy in 1...copies {
            try store.writeRaw { db in
                let tag = "-c\(copy)", prefix = "c\(copy)x"
                // One statement at a time: GRDB hands a multi-statement string its arguments in order.
                try db.execute(sql: """
                    INSERT INTO records (id, entity, version, fields, provenance, consent, policy_state, deleted_at, merged_into, created_at, updated_at)
                    SELECT r.id || ?, r.entity, r.version, replace(r.fields, '"email":"', '"email":"' || ?), r.provenance, r.consent, r.policy_state,
                    r.deleted_at, CASE WHEN r.merged_into IS NULL THEN NULL ELSE r.merged_into || ? END, r.created_at, r.updated_at
                    FROM records r JOIN template_ids t ON t.id = r.id
                    """, arguments: [tag, prefix, tag])
                try db.execute(sql: """
                    INSERT INTO crosswalk (entity, system, external_id, golden_id, event_id, linked_at)
                    SELECT c.entity, c.system, c.external_id || ?, c.golden_id || ?, c.event_id, c.linked_at
                    FROM crosswalk c JOIN template_ids t ON t.id = c.golden_id
                    """, arguments: [tag, tag])
                try db.execute(sql: """
                    INSERT INTO identifiers (entity, kind, value, golden_id)
                    SELECT i.entity, i.kind, CASE WHEN i.kind = 'email' THEN ? || i.value ELSE i.value || ? END, i.golden_id || ?
                    FROM identifiers i JOIN template_ids t ON t.id = i.golden_id
                    """, arguments: [prefix, tag, tag])
                try db.execute(sql: """
                    INSERT OR IGNORE INTO identifier_counts (entity, kind, value, record_count)
                    SELECT i.entity, i.kind, CASE WHEN i.kind = 'email' THEN ? || i.value ELSE i.value || ? END, 1
                    FROM identifiers i JOIN template_ids t ON t.id = i.golden_id
                    """, arguments: [prefix, tag])
                try db.execute(sql: """
                    INSERT INTO audit_log (golden_id, seq, value)
                    SELECT a.golden_id || ?, a.seq, a.value FROM audit_log a JOIN template_ids t ON t.id = a.golden_id
                    """, arguments: [tag])
                try db.execute(sql: """
                    INSERT INTO audit_heads (golden_id, seq, last_hash)
                    SELECT h.golden_id || ?, h.seq, h.last_hash FROM audit_heads h JOIN template_ids t ON t.id = h.golden_id
                    """, arguments: [tag])
                try db.execute(sql: """
                    INSERT INTO review_requests (id, golden_id, kind, status, reason, event_id, payload, candidates, created_at, resolved_at, score)
                    SELECT q.id || ?, CASE WHEN q.golden_id IS NULL THEN NULL ELSE q.golden_id || ? END, q.kind, q.status, q.reason,
                    q.event_id || ?, q.payload, q.candidates, q.created_at + ?, q.resolved_at, q.score
                    FROM review_requests q WHERE q.id NOT LIKE '%-c%'
                    """, arguments: [tag, tag, tag, copy])
            }
            progress(copy)
        }
        try store.writeRaw { db in try db.execute(sql: "DROP TABLE template_ids; ANALYZE") }
    }

    /// A day of hour buckets for the health page (4 sources, 2 systems each, 4 outcomes).
    static func fillHourBuckets(store: SQLiteStore, now: Timestamp) throws {
        try store.write { tx in
            for hoursAgo in 0..<30 {
                let at = Timestamp(epochMilliseconds: now.epochMilliseconds - Int64(hoursAgo) * 3_600_000)
                var counts: [EventCountKey: Int] = [:]
                for (source, systems) in [("crm", ["salesforce", "hubspot"]), ("map", ["hubspot", "marketo"]),
                                          ("billing", ["stripe", "chargebee"]), ("product", ["segment", "rudderstack"])] {
                    for system in systems {
                        for (outcome, share) in [("applied", 900), ("duplicate", 60), ("review", 10), ("dead_lettered", 8)] {
                            counts[EventCountKey(source: source, system: system, outcome: outcome)] = share + hoursAgo
                        }
                    }
                }
                try tx.countEvents(counts, at: at)
            }
        }
    }

    /// Identity questions for the queue: a marketing contact with a template person's name and
    /// company but no email, for every tenth template (canonical events through the write stage).
    static func namesakes(store: SQLiteStore, mapTopic: String, limit: Int) throws -> [ConsumerMessage] {
        let rows = try store.readRaw { db in
            try Row.fetchAll(db, sql: """
                SELECT id, json_extract(fields, '$.first_name') AS first, json_extract(fields, '$.last_name') AS last,
                       json_extract(fields, '$.company_domain') AS domain
                FROM records WHERE entity = 'contact' AND json_extract(fields, '$.company_domain') IS NOT NULL LIMIT ?
                """, arguments: [limit])
        }
        return rows.enumerated().compactMap { index, row -> ConsumerMessage? in
            guard let first: String = row["first"], let last: String = row["last"], let domain: String = row["domain"] else { return nil }
            let fields = try? JSONSerialization.data(withJSONObject: ["first_name": first, "last_name": last, "company_domain": domain, "job_title": "Consultant"])
            let json = #"{"event_id":"bench-namesake-\#(index)","source":"map","system":"hubspot","type":"contact.upserted","occurred_at":"2026-11-02T09:50:00Z","entity":"contact","external_id":"ns-\#(index)","fields":\#(String(decoding: fields ?? Data("{}".utf8), as: UTF8.self))}"#
            return ConsumerMessage(topic: mapTopic, partition: 0, offset: Int64(index), key: Array("ns-\(index)".utf8), value: Array(json.utf8),
                                   headers: [], timestampMilliseconds: nil)
        }
    }
}
