import CRMModel
import Foundation
import GRDB

/// One page of the console's review queue.
public struct ReviewQueuePage: Sendable, Hashable {
    public var requests: [ReviewRequest]
    /// Whether another page follows.
    public var hasMore: Bool
}

extension SQLiteStore {
    /// Open review requests, best candidate score first, then oldest first; optionally of one
    /// kind and raised by one source. `page` counts from 0.
    ///
    /// Walks the `(status, score, created_at, id)` index in order; the source filter reads the
    /// payload of the rows it walks.
    public func reviewQueue(kind: ReviewKind?, source: String?, page: Int, pageSize: Int) throws -> ReviewQueuePage {
        let size = max(1, min(pageSize, 200))
        let offset = max(0, page) * size
        do {
            return try readRaw { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT * FROM review_requests
                    WHERE status = 'open'
                      AND (?1 IS NULL OR kind = ?1)
                      AND (?2 IS NULL OR COALESCE(json_extract(payload, '$.event.source'),
                                                  -- field reviews: the lossless form, then the plain one of earlier versions
                                                  json_extract(payload, '$.proposed_by.source'),
                                                  json_extract(payload, '$.proposedBy.source')) = ?2)
                    ORDER BY score DESC, created_at, id
                    LIMIT ?3 OFFSET ?4
                    """, arguments: [kind?.rawValue, source, size + 1, offset])
                let requests = try rows.prefix(size).map(SQLiteTransaction.decodeReview)
                return ReviewQueuePage(requests: Array(requests), hasMore: rows.count > size)
            }
        } catch {
            throw Self.wrap(error, "review queue")
        }
    }

    /// How many review requests are open (the status index only).
    public func openReviewCount() throws -> Int {
        do {
            return try readRaw { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM review_requests WHERE status = 'open'") ?? 0 }
        } catch {
            throw Self.wrap(error, "review queue")
        }
    }
}
