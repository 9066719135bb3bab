import CRMModel
import Dedup
import GRDB

/// Two records that share a key but were kept apart by a stronger differing one (colleagues
/// sharing a switchboard, namesakes at one company), scoring below the review threshold: noted
/// on the records (`crmsync records get`) and counted (`crmsync stats`) instead of queued.
public struct NearMatch: Sendable, Hashable {
    /// The pair, ordered (`goldenID < otherID`), so a pair is noted once.
    public var goldenID: GoldenID
    public var otherID: GoldenID
    public var score: Double
    /// The shared key's kind (`email`, `phone`, `name_company`, …) and what differs.
    public var key: String
    public var differingKey: String
    /// The event that found it.
    public var eventID: String
    public var notedAt: Timestamp

    public init(_ a: GoldenID, _ b: GoldenID, score: Double, key: String, differingKey: String, eventID: String, notedAt: Timestamp) {
        (goldenID, otherID) = a < b ? (a, b) : (b, a)
        self.score = score
        self.key = key
        self.differingKey = differingKey
        self.eventID = eventID
        self.notedAt = notedAt
    }

    /// The other record of the pair, seen from `id`.
    public func other(than id: GoldenID) -> GoldenID { id == goldenID ? otherID : goldenID }
}

extension ReviewRequest {
    /// The best candidate's score: the queue is ordered by it.
    public var score: Double { candidates.map(\.score).max() ?? 0 }

    /// The id of the identity review about a pair of records: at most one per pair, ever (a
    /// pair a person rejected stays decided).
    public static func pairID(_ a: GoldenID, _ b: GoldenID) -> String {
        let (low, high) = a < b ? (a, b) : (b, a)
        return makeID(kind: .identity, eventID: "\(low)+\(high)", system: "crmsync-pair", field: "conflict")
    }
}

extension Schema {
    /// Review requests carry their best score (the queue's order); near matches get a table.
    static func registerReviewPairMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-correct-review-pairs") { db in
            try db.execute(sql: """
                ALTER TABLE review_requests ADD COLUMN score REAL NOT NULL DEFAULT 0;
                UPDATE review_requests SET score = COALESCE(
                    (SELECT MAX(json_extract(value, '$.score')) FROM json_each(review_requests.candidates)), 0);
                CREATE INDEX review_requests_by_status_score ON review_requests(status, score DESC, created_at, id);

                CREATE TABLE near_matches (
                    golden_id TEXT NOT NULL,
                    other_id TEXT NOT NULL,
                    score REAL NOT NULL,
                    key TEXT NOT NULL,
                    differing_key TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    noted_at INTEGER NOT NULL,
                    PRIMARY KEY (golden_id, other_id)
                ) WITHOUT ROWID;
                CREATE INDEX near_matches_by_other ON near_matches(other_id);
                """)
        }
    }
}

extension SQLiteTransaction {
    func noteNearMatch(_ match: NearMatch) throws -> Bool {
        try db.execute(sql: """
            INSERT OR IGNORE INTO near_matches (golden_id, other_id, score, key, differing_key, event_id, noted_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [match.goldenID, match.otherID, match.score, match.key, match.differingKey, match.eventID,
                             match.notedAt.epochMilliseconds])
        return db.changesCount > 0
    }

    func nearMatches(of id: GoldenID) throws -> [NearMatch] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM near_matches WHERE golden_id = ?
            UNION ALL SELECT * FROM near_matches WHERE other_id = ?
            ORDER BY score DESC, golden_id, other_id
            """, arguments: [id, id]).map { row in
            NearMatch(try row.decode(String.self, forColumn: "golden_id"), try row.decode(String.self, forColumn: "other_id"),
                      score: try row.decode(Double.self, forColumn: "score"), key: try row.decode(String.self, forColumn: "key"),
                      differingKey: try row.decode(String.self, forColumn: "differing_key"),
                      eventID: try row.decode(String.self, forColumn: "event_id"),
                      notedAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "noted_at")))
        }
    }

    func nearMatchCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM near_matches") ?? 0
    }
}
