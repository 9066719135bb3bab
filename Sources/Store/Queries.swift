import GRDB

/// Every statement the pipeline's hot path runs, in one place, so the scaling test can check
/// the query plan of exactly the SQL the store executes.
enum Queries {
    static let crosswalkLookup = "SELECT golden_id FROM crosswalk WHERE entity = ? AND system = ? AND external_id = ?"
    /// The count and the first `?4` records of one identifier in one statement: no row when no
    /// live record carries it; else the count with each record id (or NULL when the count is 0).
    static let identifierRecords = """
        SELECT c.record_count, i.golden_id FROM identifier_counts c
        LEFT JOIN identifiers i ON i.entity = c.entity AND i.kind = c.kind AND i.value = c.value
        WHERE c.entity = ?1 AND c.kind = ?2 AND c.value = ?3
        ORDER BY i.golden_id LIMIT ?4
        """
    static let identifiersOfRecord = "SELECT kind, value FROM identifiers WHERE golden_id = ?"
    /// Identifiers (`k`) and crosswalk entries (`x`) of a record in one statement.
    static let identityOfRecord = """
        SELECT 'k', kind, value FROM identifiers WHERE golden_id = ?1
        UNION ALL
        SELECT 'x', system, external_id FROM crosswalk WHERE golden_id = ?1
        """
    static let externalIDsOfRecord = "SELECT system, external_id FROM crosswalk WHERE golden_id = ?"
    static let recordByID = "SELECT * FROM records WHERE id = ?"
    /// A record without its content columns, with its audit head (NULLs before the first audit event).
    static let recordForRewrite = """
        SELECT r.id, r.entity, r.version, r.policy_state, r.deleted_at, r.merged_into, r.created_at, r.updated_at, h.seq, h.last_hash
        FROM records r LEFT JOIN audit_heads h ON h.golden_id = r.id WHERE r.id = ?
        """
    static let recordVersion = "SELECT version FROM records WHERE id = ?"
    /// Inserts nothing when the id is taken (``SQLiteTransaction/insertRecord(_:)`` checks the change count).
    static let insertRecord = """
        INSERT INTO records (id, entity, version, fields, provenance, consent, policy_state, deleted_at,
                             merged_into, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO NOTHING
        """
    static let updateRecord = """
        UPDATE records SET entity = ?2, version = ?3, fields = ?4, provenance = ?5, consent = ?6, policy_state = ?7,
                           deleted_at = ?8, merged_into = ?9, created_at = ?10, updated_at = ?11
        WHERE id = ?1 AND version = ?3 - 1
        """
    static let repointCrosswalk = "UPDATE crosswalk SET golden_id = ? WHERE golden_id = ?"
    static let deleteIdentifiersOfRecord = "DELETE FROM identifiers WHERE golden_id = ?"
    static let repointTombstones = "UPDATE records SET merged_into = ? WHERE merged_into = ?"
    static let mergesInvolving = """
        SELECT * FROM merges WHERE survivor_id = ?1
        UNION ALL
        SELECT * FROM merges WHERE absorbed_id = ?1
        ORDER BY id
        """
    static let rememberedEvent = "SELECT source, outcome, golden_id, seen_at FROM events WHERE system = ? AND event_id = ?"
    static let updateEventOutcome = "UPDATE events SET outcome = ?, golden_id = ? WHERE system = ? AND event_id = ?"
    static let purgeEvents = "DELETE FROM events WHERE seen_at < ?"
    static let reviewByID = "SELECT * FROM review_requests WHERE id = ?"
    /// Best candidate first, so a person's time goes to the likeliest matches.
    static let reviewsByStatus = "SELECT * FROM review_requests WHERE status = ? ORDER BY score DESC, created_at, id LIMIT ?"
    static let resolveReview = "UPDATE review_requests SET status = ?, resolved_at = ? WHERE id = ? AND status = 'open'"
    static let unsentOutbox = "SELECT * FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT ?"
    static let outboxByTopicKey = "SELECT * FROM outbox WHERE topic = ? AND key = ? ORDER BY id"
    static let markSent = "UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL"
    static let deleteDelivered = "DELETE FROM outbox WHERE id = ? AND parked_at IS NULL"
    static let auditLogOfRecord = "SELECT * FROM audit_log WHERE golden_id = ? ORDER BY seq"
    static let offsetsOfTopic = "SELECT partition, next_offset FROM consumed_offsets WHERE topic = ?"
    static let auditHead = "SELECT seq, last_hash FROM audit_heads WHERE golden_id = ?"
    static let advanceAuditHead = "UPDATE audit_heads SET seq = ?1, last_hash = ?2 WHERE golden_id = ?3 AND seq = ?1 - 1"
    // `crmsync purge` (not the hot path, but indexed: records_soft_deleted).
    static let softDeleted = """
        SELECT * FROM records INDEXED BY records_soft_deleted
        WHERE deleted_at IS NOT NULL AND merged_into IS NULL AND deleted_at < ?1 AND updated_at < ?1
          AND (deleted_at > ?2 OR (deleted_at = ?2 AND id > ?3))
        ORDER BY deleted_at, id LIMIT ?4
        """
    static let tombstonesOf = "SELECT id FROM records WHERE merged_into = ?"
    static let openReviewsOfRecord = "SELECT * FROM review_requests WHERE golden_id = ? AND status = 'open' ORDER BY created_at, id"
    static let deleteCrosswalkOfRecord = "DELETE FROM crosswalk WHERE golden_id = ?"
    static let deleteRecord = "DELETE FROM records WHERE id = ?"

    /// The hot-path statements with sample arguments, for `EXPLAIN QUERY PLAN`.
    static let hotPath: [(name: String, sql: String, arguments: StatementArguments)] = [
        ("crosswalk lookup", crosswalkLookup, ["contact", "salesforce", "x"]),
        ("records by identifier", identifierRecords, ["contact", "email", "x", 4]),
        ("identifiers of a record", identifiersOfRecord, ["c-x"]),
        ("identity of a record", identityOfRecord, ["c-x"]),
        ("external ids of a record", externalIDsOfRecord, ["c-x"]),
        ("record by id", recordByID, ["c-x"]),
        ("record for rewrite", recordForRewrite, ["c-x"]),
        ("record version", recordVersion, ["c-x"]),
        ("update record", updateRecord, ["c-x", "contact", 1, "{}", "{}", "[]", "", nil, nil, 0, 0]),
        ("merge: re-point crosswalk", repointCrosswalk, ["c-a", "c-b"]),
        ("merge: move identifiers", deleteIdentifiersOfRecord, ["c-b"]),
        ("merge: re-point tombstones", repointTombstones, ["c-a", "c-b"]),
        ("merge history", mergesInvolving, ["c-x"]),
        ("remembered event", rememberedEvent, ["salesforce", "e"]),
        ("update event outcome", updateEventOutcome, ["applied", "c-x", "salesforce", "e"]),
        ("purge event ids", purgeEvents, [0]),
        ("review by id", reviewByID, ["rv-x"]),
        ("open reviews", reviewsByStatus, ["open", 50]),
        ("resolve review", resolveReview, ["approved", 0, "rv-x"]),
        ("unsent outbox", unsentOutbox, [500]),
        ("outbox by topic and key", outboxByTopicKey, ["audit.events.v1", "c-x"]),
        ("mark sent", markSent, [0, 1]),
        ("delete delivered", deleteDelivered, [1]),
        ("audit log of a record", auditLogOfRecord, ["c-x"]),
        ("consumed offsets", offsetsOfTopic, ["crm.events.v1"]),
        ("audit head", auditHead, ["c-x"]),
        ("advance audit head", advanceAuditHead, [2, "h", "c-x"]),
    ]
}

extension SQLiteStore {
    /// `EXPLAIN QUERY PLAN` of every hot-path statement: name, SQL and the plan's detail lines.
    public func hotPathQueryPlans() throws -> [(name: String, sql: String, plan: [String])] {
        try readRaw { db in
            try Queries.hotPath.map { query in
                let rows = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + query.sql, arguments: query.arguments)
                return (query.name, query.sql, try rows.map { try $0.decode(String.self, forColumn: "detail") })
            }
        }
    }
}
