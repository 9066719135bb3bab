import CRMModel
import Dedup
import Foundation
import GRDB

/// ``StoreTransaction`` over one GRDB connection inside `DatabasePool.write` / `.read`.
/// Lives only for the duration of the closure it is passed to.
final class SQLiteTransaction: StoreTransaction {
    /// Internal (not private) so the store's extensions in other files share the connection.
    let db: Database

    init(_ db: Database) {
        self.db = db
    }

    // MARK: IdentityLookup

    func goldenID(for reference: ExternalReference, entity: Entity) throws -> GoldenID? {
        try String.fetchOne(db.cachedStatement(sql: Queries.crosswalkLookup) { bind in
            bind(entity.rawValue); bind(reference.system); bind(reference.id)
        })
    }

    func records(with key: IdentityKey, entity: Entity, limit: Int) throws -> IdentifierMatch {
        let statement = try db.cachedStatement(sql: Queries.identifierRecords) { bind in
            bind(entity.rawValue); bind(key.kind.rawValue); bind(key.value); bind(max(limit, 1))
        }
        var total = 0
        var ids: [GoldenID] = []
        let rows = try Row.fetchCursor(statement)
        while let row = try rows.next() {
            total = try row.decode(Int.self, atIndex: 0)
            if ids.count < limit, let id = try row.decode(String?.self, atIndex: 1) { ids.append(id) }
        }
        guard total > 0 else { return .none }
        return IdentifierMatch(recordIDs: ids, total: total)
    }

    func identity(of id: GoldenID) throws -> RecordIdentity {
        var keys = Set<IdentityKey>()
        var external: [String: Set<String>] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: Queries.identityOfRecord) { bind in bind(id) })
        while let row = try rows.next() {
            let name = try row.decode(String.self, atIndex: 1)
            let value = try row.decode(String.self, atIndex: 2)
            if try row.decode(String.self, atIndex: 0) == "x" {
                external[name, default: []].insert(value)
                continue
            }
            guard let kind = IdentityKey.Kind(rawValue: name) else {
                throw StoreError(.corruptRow, "identifier of \(id) has unknown kind \(name)")
            }
            keys.insert(IdentityKey(kind: kind, value: value))
        }
        return RecordIdentity(id: id, keys: keys, externalIDs: external)
    }

    // MARK: Records

    func record(_ id: GoldenID) throws -> GoldenRecord? {
        guard let row = try Row.fetchOne(cached: db, sql: Queries.recordByID, arguments: [id]) else { return nil }
        return try Self.decodeRecord(row)
    }

    func recordForRewrite(_ id: GoldenID) throws -> RecordForRewrite? {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: Queries.recordForRewrite) { bind in bind(id) })
        guard let row = try rows.next() else { return nil }
        let head = try row.decode(Int64?.self, atIndex: 8).map { AuditHead(seq: $0, lastHash: try row.decode(String.self, atIndex: 9)) }
        return RecordForRewrite(record: try Self.decodeRecordForRewrite(row), auditHead: head)
    }

    func liveRecord(_ id: GoldenID) throws -> GoldenRecord? {
        guard let found = try record(id) else { return nil }
        // Tombstones point straight at the survivor (merges re-point older tombstones), so one hop suffices.
        guard let survivor = found.mergedInto else { return found }
        return try record(survivor)
    }

    func externalIDs(of id: GoldenID) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: Queries.externalIDsOfRecord) { bind in bind(id) })
        while let row = try rows.next() {
            result[try row.decode(String.self, atIndex: 0), default: []].append(try row.decode(String.self, atIndex: 1))
        }
        return result.mapValues { $0.sorted() }
    }

    func insertRecord(_ record: GoldenRecord) throws {
        // The existence check is part of the INSERT (nothing inserted: the id is taken).
        try db.execute(cached: Queries.insertRecord) { bind in Self.bindRecord(record, into: &bind) }
        guard db.changesCount > 0 else { throw StoreError(.duplicateRecord, "record \(record.id) exists already") }
    }

    func updateRecord(_ record: GoldenRecord) throws {
        // The version check is part of the UPDATE; the stored version is read only to explain a refusal.
        try db.execute(cached: Queries.updateRecord) { bind in Self.bindRecord(record, into: &bind) }
        guard db.changesCount == 0 else { return }
        guard let stored = try Int64.fetchOne(cached: db, sql: Queries.recordVersion, arguments: [record.id]) else {
            throw StoreError(.notFound, "record \(record.id) does not exist")
        }
        throw StoreError(.versionConflict, "record \(record.id) is at version \(stored); an update must write version \(stored + 1), not \(record.version)")
    }

    // MARK: Identity graph

    func link(_ reference: ExternalReference, entity: Entity, to id: GoldenID, eventID: String?, at time: Timestamp) throws {
        try db.execute(cached: """
            INSERT INTO crosswalk (entity, system, external_id, golden_id, event_id, linked_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (entity, system, external_id) DO UPDATE
                SET golden_id = excluded.golden_id, event_id = excluded.event_id, linked_at = excluded.linked_at
                WHERE golden_id <> excluded.golden_id
            """) { bind in
            bind(entity.rawValue); bind(reference.system); bind(reference.id); bind(id); bind(eventID); bind(time.epochMilliseconds)
        }
    }

    /// Adjusts the per-identifier record count (merges and purges: one identifier at a time).
    func adjustCount(entity: String, kind: String, value: String, by delta: Int) throws {
        try db.execute(cached: IdentityIndexSQL.count.sql(rows: 1)) { bind in
            bind(entity); bind(kind); bind(value); bind(delta)
        }
    }

    func mergeIdentity(absorbed: GoldenID, into survivor: GoldenID, reason: String, eventID: String?,
                       at time: Timestamp) throws -> MergeEntry {
        guard absorbed != survivor else { throw StoreError(.invalidMerge, "cannot merge \(survivor) into itself") }
        guard let absorbedRecord = try record(absorbed) else { throw StoreError(.notFound, "merge: no record \(absorbed)") }
        guard let survivorRecord = try record(survivor) else { throw StoreError(.notFound, "merge: no record \(survivor)") }
        guard absorbedRecord.entity == survivorRecord.entity else {
            throw StoreError(.invalidMerge, "cannot merge \(absorbedRecord.entity) \(absorbed) into \(survivorRecord.entity) \(survivor)")
        }
        guard absorbedRecord.mergedInto == nil, survivorRecord.mergedInto == nil else {
            throw StoreError(.invalidMerge, "cannot merge \(absorbed) into \(survivor): one of them is merged away already")
        }
        let external = try externalIDs(of: absorbed)
        try db.execute(cached: Queries.repointCrosswalk, arguments: [survivor, absorbed])

        let entity = absorbedRecord.entity.rawValue
        let moved = try Row.fetchAll(cached: db, sql: Queries.identifiersOfRecord, arguments: [absorbed])
        try db.execute(cached: Queries.deleteIdentifiersOfRecord, arguments: [absorbed])
        for row in moved {
            let kind = try row.decode(String.self, forColumn: "kind")
            let value = try row.decode(String.self, forColumn: "value")
            try db.execute(cached: "INSERT OR IGNORE INTO identifiers (entity, kind, value, golden_id) VALUES (?, ?, ?, ?)",
                           arguments: [entity, kind, value, survivor])
            // Already on the survivor: the identifier now has one record fewer.
            if db.changesCount == 0 { try adjustCount(entity: entity, kind: kind, value: value, by: -1) }
        }

        var tombstone = absorbedRecord
        tombstone.mergedInto = survivor
        tombstone.version += 1
        tombstone.updatedAt = time
        try updateRecord(tombstone)
        // Earlier tombstones of the absorbed record now point at the survivor: one hop always.
        try db.execute(cached: Queries.repointTombstones, arguments: [survivor, absorbed])

        let entry = MergeEntry(survivorID: survivor, absorbedID: absorbed, reason: reason, eventID: eventID,
                               mergedAt: time, absorbedExternalIDs: external)
        try db.execute(cached: """
            INSERT INTO merges (survivor_id, absorbed_id, reason, event_id, merged_at, absorbed_external_ids)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [survivor, absorbed, reason, eventID, time.epochMilliseconds, try JSONColumns.encode(external)])
        return entry
    }

    func applyIdentity(_ resolution: IdentityResolution, event: NormalizedEvent, at time: Timestamp) throws -> AppliedIdentity? {
        let entity = event.event.entity
        let eventID = event.event.eventID
        let applied: AppliedIdentity
        switch resolution.decision {
        case .review, .notFound:
            return nil
        case .existing(let id, _):
            applied = AppliedIdentity(goldenID: id, created: false, absorbed: [])
        case .create(let id):
            let record = GoldenRecord(id: id, entity: entity, createdAt: time, updatedAt: time)
            try insertRecord(record)
            applied = AppliedIdentity(goldenID: id, created: true, absorbed: [], inserted: record)
        case .merge(let survivor, let absorbed, let reason):
            for id in absorbed {
                _ = try mergeIdentity(absorbed: id, into: survivor, reason: reason.rawValue, eventID: eventID, at: time)
            }
            applied = AppliedIdentity(goldenID: survivor, created: false, absorbed: absorbed)
        }
        for reference in resolution.references {
            try link(reference, entity: entity, to: applied.goldenID, eventID: eventID, at: time)
        }
        try index(resolution.keys, entity: entity, for: applied.goldenID)
        return applied
    }

    func merges(involving id: GoldenID) throws -> [MergeEntry] {
        let rows = try Row.fetchAll(cached: db, sql: Queries.mergesInvolving, arguments: [id])
        return try rows.map { row in
            let survivor = try row.decode(String.self, forColumn: "survivor_id")
            return MergeEntry(
                survivorID: survivor,
                absorbedID: try row.decode(String.self, forColumn: "absorbed_id"),
                reason: try row.decode(String.self, forColumn: "reason"),
                eventID: try row.decode(String?.self, forColumn: "event_id"),
                mergedAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "merged_at")),
                absorbedExternalIDs: try JSONColumns.decode(
                    [String: [String]].self, from: try row.decode(String.self, forColumn: "absorbed_external_ids"),
                    column: "absorbed_external_ids", id: survivor))
        }
    }

    // MARK: Events and counters

    func rememberedEvent(system: String, eventID: String) throws -> RememberedEvent? {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: Queries.rememberedEvent) { bind in bind(system); bind(eventID) })
        guard let row = try rows.next() else { return nil }
        // Columns as Queries.rememberedEvent names them: source, outcome, golden_id, seen_at.
        let outcomeName = try row.decode(String.self, atIndex: 1)
        guard let outcome = EventOutcome(rawValue: outcomeName) else {
            throw StoreError(.corruptRow, "event \(system)/\(eventID) has unknown outcome \(outcomeName)")
        }
        return RememberedEvent(
            system: system, eventID: eventID,
            source: try row.decode(String?.self, atIndex: 0).flatMap(Source.init(rawValue:)),
            outcome: outcome, goldenID: try row.decode(String?.self, atIndex: 2),
            seenAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, atIndex: 3)))
    }

    func rememberEvent(_ event: RememberedEvent) throws -> Bool {
        try db.execute(cached: """
            INSERT OR IGNORE INTO events (system, event_id, source, outcome, golden_id, seen_at) VALUES (?, ?, ?, ?, ?, ?)
            """) { bind in
            bind(event.system); bind(event.eventID); bind(event.source?.rawValue); bind(event.outcome.rawValue); bind(event.goldenID)
            bind(event.seenAt.epochMilliseconds)
        }
        return db.changesCount > 0
    }

    func updateEventOutcome(system: String, eventID: String, outcome: EventOutcome, goldenID: GoldenID?) throws {
        try db.execute(cached: Queries.updateEventOutcome,
                       arguments: [outcome.rawValue, goldenID, system, eventID])
        guard db.changesCount > 0 else { throw StoreError(.notFound, "no remembered event \(system)/\(eventID)") }
    }

    func countOutcome(_ outcome: EventOutcome, source: String, count: Int, at time: Timestamp) throws {
        try db.execute(cached: """
            INSERT INTO outcome_counters (source, outcome, count, last_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (source, outcome) DO UPDATE
                SET count = count + excluded.count, last_at = max(coalesce(last_at, excluded.last_at), excluded.last_at)
            """, arguments: [source, outcome.rawValue, count, time.epochMilliseconds])
    }

    func outcomeCounts() throws -> [OutcomeCount] {
        try Row.fetchAll(cached: db, sql: "SELECT * FROM outcome_counters ORDER BY source, outcome").map { row in
            let name = try row.decode(String.self, forColumn: "outcome")
            guard let outcome = EventOutcome(rawValue: name) else {
                throw StoreError(.corruptRow, "outcome counter with unknown outcome \(name)")
            }
            return OutcomeCount(source: try row.decode(String.self, forColumn: "source"), outcome: outcome,
                                count: try row.decode(Int64.self, forColumn: "count"),
                                lastAt: try row.decode(Int64?.self, forColumn: "last_at").map(Timestamp.init(epochMilliseconds:)))
        }
    }

    func recordCounts() throws -> [Entity: Int] {
        var counts: [Entity: Int] = [:]
        for entity in Entity.allCases {
            counts[entity] = try Int.fetchOne(cached: db, sql: """
                SELECT count(*) FROM records INDEXED BY records_live_by_entity
                WHERE entity = ? AND merged_into IS NULL AND deleted_at IS NULL
                """, arguments: [entity.rawValue]) ?? 0
        }
        return counts
    }

    func softDeletedRecords(deletedBefore time: Timestamp, after: SoftDeleteCursor?, limit: Int) throws -> [GoldenRecord] {
        // Without a cursor, start below every instant.
        let rows = try Row.fetchAll(cached: db, sql: Queries.softDeleted, arguments: [
            time.epochMilliseconds, after?.deletedAt.epochMilliseconds ?? Int64.min, after?.id ?? "", limit,
        ])
        return try rows.map(Self.decodeRecord)
    }

    func countEventIDs(seenBefore time: Timestamp) throws -> Int {
        try Int.fetchOne(cached: db, sql: "SELECT count(*) FROM events WHERE seen_at < ?", arguments: [time.epochMilliseconds]) ?? 0
    }

    func purgeRecord(_ id: GoldenID) throws -> PurgedRecord {
        guard let stored = try record(id) else { throw StoreError(.notFound, "purge: no record \(id)") }
        let external = try externalIDs(of: id)
        try db.execute(cached: Queries.deleteCrosswalkOfRecord, arguments: [id])
        let identifiers = try Row.fetchAll(cached: db, sql: Queries.identifiersOfRecord, arguments: [id])
        for row in identifiers {
            let kind = try row.decode(String.self, forColumn: "kind")
            let value = try row.decode(String.self, forColumn: "value")
            try adjustCount(entity: stored.entity.rawValue, kind: kind, value: value, by: -1)
        }
        try db.execute(cached: Queries.deleteIdentifiersOfRecord, arguments: [id])
        let tombstones = try String.fetchAll(cached: db, sql: Queries.tombstonesOf, arguments: [id])
        for tombstone in tombstones { try db.execute(cached: Queries.deleteRecord, arguments: [tombstone]) }
        try db.execute(cached: Queries.deleteRecord, arguments: [id])
        return PurgedRecord(id: id, externalIDs: external, identifiers: identifiers.count, tombstones: tombstones)
    }

    func purgeEventIDs(olderThan time: Timestamp) throws -> Int {
        try db.execute(cached: Queries.purgeEvents, arguments: [time.epochMilliseconds])
        return db.changesCount
    }

    // MARK: Review requests

    func reviewRequest(_ id: String) throws -> ReviewRequest? {
        try Row.fetchOne(cached: db, sql: Queries.reviewByID, arguments: [id]).map(Self.decodeReview)
    }

    func reviewRequests(status: ReviewStatus, limit: Int) throws -> [ReviewRequest] {
        try Row.fetchAll(cached: db, sql: Queries.reviewsByStatus,
                         arguments: [status.rawValue, limit]).map(Self.decodeReview)
    }

    func openReviewRequests(goldenID: GoldenID) throws -> [ReviewRequest] {
        try Row.fetchAll(cached: db, sql: Queries.openReviewsOfRecord, arguments: [goldenID]).map(Self.decodeReview)
    }

    func openReviewRequest(_ request: ReviewRequest) throws -> Bool {
        try db.execute(cached: """
            INSERT OR IGNORE INTO review_requests
                (id, golden_id, kind, status, reason, event_id, payload, candidates, created_at, resolved_at, score)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [request.id, request.goldenID, request.kind.rawValue, request.status.rawValue, request.reason,
                             request.eventID, String(decoding: request.payload, as: UTF8.self),
                             try JSONColumns.encode(request.candidates), request.createdAt.epochMilliseconds,
                             request.resolvedAt?.epochMilliseconds, request.score])
        return db.changesCount > 0
    }

    func resolveReviewRequest(_ id: String, status: ReviewStatus, at time: Timestamp) throws {
        guard status != .open else { throw StoreError(.invalidRequest, "resolving \(id) needs approved or rejected") }
        try db.execute(cached: Queries.resolveReview,
                       arguments: [status.rawValue, time.epochMilliseconds, id])
        guard db.changesCount > 0 else { throw StoreError(.notFound, "no open review request \(id)") }
    }

    // MARK: Outbox and offsets

    func enqueue(_ message: OutboxMessage) throws -> Int64 {
        try insertOutbox(CollectionOfOne(message))
        return db.lastInsertedRowID
    }

    func unsentOutbox(limit: Int) throws -> [OutboxEntry] {
        try Row.fetchAll(cached: db, sql: Queries.unsentOutbox, arguments: [limit])
            .map(Self.decodeOutbox)
    }

    func outbox(topic: String, key: Data) throws -> [OutboxEntry] {
        try Row.fetchAll(cached: db, sql: Queries.outboxByTopicKey, arguments: [topic, key])
            .map(Self.decodeOutbox)
    }

    func moveOutcome(from old: EventOutcome, to new: EventOutcome, source: String, at time: Timestamp) throws {
        try db.execute(cached: "UPDATE outcome_counters SET count = count - 1 WHERE source = ? AND outcome = ? AND count > 0",
                       arguments: [source, old.rawValue])
        guard db.changesCount > 0 else { throw StoreError(.notFound, "no \(old.rawValue) event of \(source) to move") }
        try countOutcome(new, source: source, at: time)
    }

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        do {
            return try withSavepoint(body)
        } catch let error as DatabaseError {
            // Typed, so the caller can tell a full disk or a busy database (retry the batch)
            // from a failure of this one message.
            throw SQLiteStore.wrap(error, "write")
        }
    }

    func outbox(topic: String, afterID: Int64, limit: Int) throws -> [OutboxEntry] {
        try Row.fetchAll(cached: db, sql: "SELECT * FROM outbox WHERE topic = ? AND id > ? ORDER BY id LIMIT ?",
                         arguments: [topic, afterID, limit]).map(Self.decodeOutbox)
    }

    func latestOutbox(topic: String, limit: Int) throws -> [OutboxEntry] {
        try Row.fetchAll(cached: db, sql: "SELECT * FROM outbox WHERE topic = ? ORDER BY id DESC LIMIT ?",
                         arguments: [topic, limit]).map(Self.decodeOutbox)
    }

    func auditHeads() throws -> [String: AuditHead] {
        var heads: [String: AuditHead] = [:]
        for row in try Row.fetchAll(cached: db, sql: "SELECT golden_id, seq, last_hash FROM audit_heads") {
            heads[try row.decode(String.self, forColumn: "golden_id")] = AuditHead(
                seq: try row.decode(Int64.self, forColumn: "seq"), lastHash: try row.decode(String.self, forColumn: "last_hash"))
        }
        return heads
    }

    func parkOutbox(_ id: Int64, reason: String, at time: Timestamp) throws {
        try db.execute(cached: "UPDATE outbox SET parked_at = ?, park_reason = ? WHERE id = ? AND sent_at IS NULL AND parked_at IS NULL",
                       arguments: [time.epochMilliseconds, reason, id])
    }

    func parkedOutboxCount() throws -> Int {
        try Int.fetchOne(cached: db, sql: "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL") ?? 0
    }

    func parkedOutbox(limit: Int) throws -> [ParkedOutboxEntry] {
        try Row.fetchAll(cached: db, sql: """
            SELECT id, topic, length(value) AS value_bytes, park_reason, parked_at FROM outbox
            WHERE parked_at IS NOT NULL ORDER BY id DESC LIMIT ?
            """, arguments: [limit]).map { row in
            ParkedOutboxEntry(id: try row.decode(Int64.self, forColumn: "id"), topic: try row.decode(String.self, forColumn: "topic"),
                              valueBytes: try row.decode(Int.self, forColumn: "value_bytes"),
                              reason: try row.decode(String?.self, forColumn: "park_reason") ?? "",
                              parkedAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "parked_at")))
        }
    }

    func markSent(_ ids: [Int64], at time: Timestamp) throws {
        for id in ids {
            try db.execute(cached: Queries.markSent,
                           arguments: [time.epochMilliseconds, id])
        }
    }

    func commitOffset(topic: String, partition: Int32, next offset: Int64) throws {
        try db.execute(cached: """
            INSERT INTO consumed_offsets (topic, partition, next_offset) VALUES (?, ?, ?)
            ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset
            """, arguments: [topic, partition, offset])
    }

    // MARK: Alarms

    func raiseAlarm(_ alarm: Alarm) throws -> Int64 {
        try db.execute(cached: """
            INSERT INTO alarms (kind, topic, partition, lost_from, lost_to, resumed_at, detail, raised_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [alarm.kind.rawValue, alarm.topic, alarm.partition, alarm.lostFrom, alarm.lostTo,
                              alarm.resumedAt, alarm.detail, alarm.raisedAt.epochMilliseconds])
        return db.lastInsertedRowID
    }

    func alarmCounts() throws -> [Alarm.Kind: Int] {
        var counts: [Alarm.Kind: Int] = [:]
        for row in try Row.fetchAll(cached: db, sql: "SELECT kind, count(*) AS n FROM alarms GROUP BY kind") {
            counts[try Self.alarmKind(row)] = try row.decode(Int.self, forColumn: "n")
        }
        return counts
    }

    func latestAlarms(limit: Int) throws -> [Alarm] {
        try Row.fetchAll(cached: db, sql: "SELECT * FROM alarms ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
            Alarm(id: try row.decode(Int64.self, forColumn: "id"), kind: try Self.alarmKind(row),
                         topic: try row.decode(String.self, forColumn: "topic"),
                         partition: try row.decode(Int32.self, forColumn: "partition"),
                         lostFrom: try row.decode(Int64?.self, forColumn: "lost_from"),
                         lostTo: try row.decode(Int64?.self, forColumn: "lost_to"),
                         resumedAt: try row.decode(Int64.self, forColumn: "resumed_at"),
                         detail: try row.decode(String.self, forColumn: "detail"),
                         raisedAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "raised_at")))
        }
    }

    private static func alarmKind(_ row: Row) throws -> Alarm.Kind {
        let name = try row.decode(String.self, forColumn: "kind")
        guard let kind = Alarm.Kind(rawValue: name) else {
            throw StoreError(.corruptRow, "unknown alarm kind \(name) (written by a newer crmsync?)")
        }
        return kind
    }

    func consumedOffsets(topic: String) throws -> [Int32: Int64] {
        var offsets: [Int32: Int64] = [:]
        for row in try Row.fetchAll(cached: db, sql: Queries.offsetsOfTopic, arguments: [topic]) {
            offsets[try row.decode(Int32.self, forColumn: "partition")] = try row.decode(Int64.self, forColumn: "next_offset")
        }
        return offsets
    }

    // MARK: Audit chain heads

    func auditHead(of id: GoldenID) throws -> AuditHead? {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: Queries.auditHead) { bind in bind(id) })
        guard let row = try rows.next() else { return nil }
        return AuditHead(seq: try row.decode(Int64.self, atIndex: 0), lastHash: try row.decode(String.self, atIndex: 1))
    }

    func advanceAuditHead(of id: GoldenID, to head: AuditHead) throws {
        // The no-gap check is part of the write (a first event inserts, a later one moves the
        // head only from seq - 1); the stored head is read only to explain a refusal.
        if head.seq == 1 {
            try db.execute(cached: "INSERT OR IGNORE INTO audit_heads (golden_id, seq, last_hash) VALUES (?, ?, ?)") { bind in
                bind(id); bind(head.seq); bind(head.lastHash)
            }
        } else {
            try db.execute(cached: Queries.advanceAuditHead) { bind in bind(head.seq); bind(head.lastHash); bind(id) }
        }
        guard db.changesCount == 0 else { return }
        let previous = try auditHead(of: id)?.seq ?? 0
        throw StoreError(.auditGap, "audit seq of \(id) would jump from \(previous) to \(head.seq)")
    }

    // MARK: Row decoding

    /// A record's columns in the order of Queries.insertRecord / updateRecord.
    private static func bindRecord(_ record: GoldenRecord, into bind: inout StatementBinder) {
        bind(record.id); bind(record.entity.rawValue); bind(record.version); bind(JSONColumns.fields(record.fields))
        bind(JSONColumns.provenance(record.provenance)); bind(JSONColumns.consent(record.consent)); bind(record.policyState)
        bind(record.deletedAt?.epochMilliseconds); bind(record.mergedInto); bind(record.createdAt.epochMilliseconds)
        bind(record.updatedAt.epochMilliseconds)
    }

    /// A row of Queries.recordForRewrite, by column position (no content columns).
    private static func decodeRecordForRewrite(_ row: Row) throws -> GoldenRecord {
        let id = try row.decode(String.self, atIndex: 0)
        let entityName = try row.decode(String.self, atIndex: 1)
        guard let entity = Entity(rawValue: entityName) else {
            throw StoreError(.corruptRow, "record \(id) has unknown entity \(entityName)")
        }
        return GoldenRecord(
            id: id, entity: entity, version: try row.decode(Int64.self, atIndex: 2), fields: [:], provenance: [:], consent: [],
            policyState: try row.decode(Data.self, atIndex: 3),
            deletedAt: try row.decode(Int64?.self, atIndex: 4).map(Timestamp.init(epochMilliseconds:)),
            mergedInto: try row.decode(String?.self, atIndex: 5),
            createdAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, atIndex: 6)),
            updatedAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, atIndex: 7)))
    }

    private static func decodeRecord(_ row: Row) throws -> GoldenRecord {
        let id = try row.decode(String.self, forColumn: "id")
        let entityName = try row.decode(String.self, forColumn: "entity")
        guard let entity = Entity(rawValue: entityName) else {
            throw StoreError(.corruptRow, "record \(id) has unknown entity \(entityName)")
        }
        return GoldenRecord(
            id: id, entity: entity, version: try row.decode(Int64.self, forColumn: "version"),
            fields: try JSONColumns.decodeFields(try row.decode(String.self, forColumn: "fields"), entity: entity, id: id),
            provenance: try JSONColumns.decode([String: Provenance].self, from: try row.decode(String.self, forColumn: "provenance"),
                                               column: "provenance", id: id),
            consent: try JSONColumns.decode([ConsentRecord].self, from: try row.decode(String.self, forColumn: "consent"),
                                            column: "consent", id: id),
            policyState: try row.decode(Data.self, forColumn: "policy_state"),
            deletedAt: try row.decode(Int64?.self, forColumn: "deleted_at").map(Timestamp.init(epochMilliseconds:)),
            mergedInto: try row.decode(String?.self, forColumn: "merged_into"),
            createdAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "created_at")),
            updatedAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "updated_at")))
    }

    static func decodeReview(_ row: Row) throws -> ReviewRequest {
        let id = try row.decode(String.self, forColumn: "id")
        let kindName = try row.decode(String.self, forColumn: "kind")
        let statusName = try row.decode(String.self, forColumn: "status")
        guard let kind = ReviewKind(rawValue: kindName), let status = ReviewStatus(rawValue: statusName) else {
            throw StoreError(.corruptRow, "review request \(id) has kind \(kindName) / status \(statusName)")
        }
        return ReviewRequest(
            id: id, goldenID: try row.decode(String?.self, forColumn: "golden_id"), kind: kind, status: status,
            reason: try row.decode(String.self, forColumn: "reason"), eventID: try row.decode(String.self, forColumn: "event_id"),
            payload: Data(try row.decode(String.self, forColumn: "payload").utf8),
            candidates: try JSONColumns.decode([ScoredCandidate].self, from: try row.decode(String.self, forColumn: "candidates"),
                                               column: "candidates", id: id),
            createdAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "created_at")),
            resolvedAt: try row.decode(Int64?.self, forColumn: "resolved_at").map(Timestamp.init(epochMilliseconds:)))
    }

    private static func decodeOutbox(_ row: Row) throws -> OutboxEntry {
        let id = try row.decode(Int64.self, forColumn: "id")
        return OutboxEntry(
            id: id,
            message: OutboxMessage(
                topic: try row.decode(String.self, forColumn: "topic"), key: try row.decode(Data?.self, forColumn: "key"),
                value: try row.decode(Data.self, forColumn: "value"),
                headers: try JSONColumns.decodeHeaders(try row.decode(String.self, forColumn: "headers"), id: "outbox \(id)"),
                createdAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "created_at"))),
            sentAt: try row.decode(Int64?.self, forColumn: "sent_at").map(Timestamp.init(epochMilliseconds:)))
    }
}
