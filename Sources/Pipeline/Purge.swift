import Audit
import CRMModel
import Foundation
import Store

/// What `crmsync purge` found or removed.
public struct PurgeReport: Sendable, Hashable {
    /// One record past the grace period.
    public struct Entry: Sendable, Hashable {
        public var goldenID: String
        public var entity: Entity
        /// The soft-delete instant (event time of the record's latest delete).
        public var deletedAt: Timestamp
        /// Crosswalk entries removed (empty on a dry run).
        public var externalIDs: [String: [String]]
        /// Tombstones merged into the record, removed with it (empty on a dry run).
        public var tombstones: [String]
    }

    /// Records purged (or, on a dry run, that would be), oldest deletion first.
    public var records: [Entry] = []
    /// Remembered event ids forgotten (or that would be).
    public var eventIDs = 0
    /// Transactions committed (0 on a dry run).
    public var batches = 0
}

extension WriteStage {
    /// Hard-deletes records soft-deleted before `cutoff` (docs/contract.md#deletes-and-purge: nothing is hard-deleted by
    /// sync; `crmsync purge` removes them after the grace period), `batchSize` records per
    /// transaction, so a running `crmsync run` waits at most one short batch for the store.
    ///
    /// Each purged record gets a last `purge` audit event on its hash chain through the outbox
    /// (`crmsync run`'s relay publishes it), its crosswalk entries and identifiers go, so no
    /// later event can match it, and its open review requests are rejected. Field values are
    /// not copied into the audit event: the point of purging is that they are gone. Remembered
    /// event ids first seen before `eventIDCutoff` are forgotten in the same run (nil: keep them).
    ///
    /// - Parameter dryRun: only report, from one read snapshot (a read-only store will do).
    public func purge(deletedBefore cutoff: Timestamp, eventIDsSeenBefore eventIDCutoff: Timestamp?, dryRun: Bool,
                      batchSize: Int = 200, actor: String) throws -> PurgeReport {
        var report = PurgeReport()
        if dryRun {
            try store.read { reader in
                var cursor: SoftDeleteCursor?
                while true {
                    let page = try reader.softDeletedRecords(deletedBefore: cutoff, after: cursor, limit: batchSize)
                    guard let last = page.last, let lastDeleted = last.deletedAt else { break }
                    report.records += page.compactMap { record in
                        record.deletedAt.map { PurgeReport.Entry(record, deletedAt: $0) }
                    }
                    cursor = SoftDeleteCursor(deletedAt: lastDeleted, id: last.id)
                }
                if let eventIDCutoff { report.eventIDs = try reader.countEventIDs(seenBefore: eventIDCutoff) }
            }
            return report
        }
        while true {
            let purged = try store.write { tx -> [PurgeReport.Entry] in
                let now = clock.now()
                return try tx.softDeletedRecords(deletedBefore: cutoff, after: nil, limit: batchSize).compactMap { record in
                    guard let deletedAt = record.deletedAt else { return nil }
                    return try purge(record, deletedAt: deletedAt, actor: actor, tx: tx, now: now)
                }
            }
            guard !purged.isEmpty else { break }
            report.records += purged
            report.batches += 1
        }
        if let eventIDCutoff {
            report.eventIDs = try store.write { tx in try tx.purgeEventIDs(olderThan: eventIDCutoff) }
            report.batches += 1
        }
        return report
    }

    private func purge(_ record: GoldenRecord, deletedAt: Timestamp, actor: String, tx: any StoreTransaction, now: Timestamp) throws -> PurgeReport.Entry {
        let removed = try tx.purgeRecord(record.id)
        // Nobody can approve a change to a record that is gone: its open requests are closed.
        for goldenID in [record.id] + removed.tombstones {
            for request in try tx.openReviewRequests(goldenID: goldenID) {
                try close(request, status: .rejected, goldenID: goldenID, actor: actor, note: "record purged", tx: tx, now: now)
            }
        }
        for tombstone in removed.tombstones {
            try appendPurgeAudit(goldenID: tombstone, entity: record.entity, actor: actor, tx: tx, now: now)
        }
        try appendPurgeAudit(goldenID: record.id, entity: record.entity, actor: actor, tx: tx, now: now)
        var entry = PurgeReport.Entry(record, deletedAt: deletedAt)
        entry.externalIDs = removed.externalIDs
        entry.tombstones = removed.tombstones
        return entry
    }

    /// The last link of a purged record's chain. Its input is the purge itself (`purge:<id>`,
    /// system `crmsync-purge`); the source is the one of the record's last audited write, since
    /// an audit event names one and a purge has none of its own.
    private func appendPurgeAudit(goldenID: String, entity: Entity, actor: String,
                                  tx: any StoreTransaction, now: Timestamp) throws {
        var last: AuditEvent?
        if let row = try tx.auditLog(of: goldenID).last {
            do {
                last = try JSONDecoder().decode(AuditEvent.self, from: row.value)
            } catch {
                throw StoreError(.corruptRow, "audit log row \(row.id) is not a readable audit event of \(goldenID): \(error)")
            }
        }
        let purge = CanonicalEvent(eventID: "purge:\(goldenID)", source: last?.source ?? .crm, system: "crmsync-purge",
                                   type: EventType(entity, .deleted), occurredAt: now, actor: actor, externalID: goldenID, fields: [:])
        // Which record the purge removed is the chain itself; no field value is repeated here.
        let changes = [AuditEvent.Change(field: "purged_at", before: nil, after: .timestamp(now), rule: "purge")]
        try appendAudit(goldenID: goldenID, entity: entity, operation: .purge, event: purge, changes: changes, rejected: [],
                        tx: tx, now: now, actor: actor)
    }
}

extension PurgeReport.Entry {
    init(_ record: GoldenRecord, deletedAt: Timestamp) {
        self.init(goldenID: record.id, entity: record.entity, deletedAt: deletedAt, externalIDs: [:], tombstones: [])
    }
}
