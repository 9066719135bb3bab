import CRMModel
import Dedup
import Foundation

/// The golden-record store: one write transaction per pipeline batch, concurrent reads.
///
/// Narrow on purpose, so that a PostgreSQL implementation can follow for multi-instance
/// deployments: everything goes through ``StoreReader`` / ``StoreTransaction``, whose methods are
/// plain statements and index lookups with no SQLite-specific semantics.
public protocol GoldenStore: Sendable {
    /// Runs `body` in one atomic transaction: records, outbox rows and offsets commit together
    /// or not at all. An error thrown by `body` rolls everything back and is rethrown as is;
    /// database failures surface as ``StoreError`` (``StoreError/isTransient`` for busy/locked and a full disk).
    func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T
    /// Runs `body` on a consistent snapshot; runs concurrently with a writer.
    func read<T>(_ body: (any StoreReader) throws -> T) throws -> T
}

/// Read access. Every method is an index lookup (the scaling test checks the query plans),
/// except the operator summaries ``recordCounts()`` and ``outcomeCounts()``.
public protocol StoreReader: IdentityLookup {
    /// Near matches noted for a record (either side of the pair), best first.
    func nearMatches(of id: GoldenID) throws -> [NearMatch]
    /// How many near matches are noted in all.
    func nearMatchCount() throws -> Int
    /// The record with this id, tombstones included.
    func record(_ id: GoldenID) throws -> GoldenRecord?
    /// The record with this id, or the survivor it was merged into.
    func liveRecord(_ id: GoldenID) throws -> GoldenRecord?
    /// The record's external ids by system, sorted.
    func externalIDs(of id: GoldenID) throws -> [String: [String]]
    /// Merges where the record survived or was absorbed, oldest first.
    func merges(involving id: GoldenID) throws -> [MergeEntry]
    /// What became of an event seen before, if it was.
    func rememberedEvent(system: String, eventID: String) throws -> RememberedEvent?
    func reviewRequest(_ id: String) throws -> ReviewRequest?
    /// Review requests with `status`, oldest first.
    func reviewRequests(status: ReviewStatus, limit: Int) throws -> [ReviewRequest]
    /// Open review requests about one record, oldest first.
    func openReviewRequests(goldenID: GoldenID) throws -> [ReviewRequest]
    /// Unsent outbox rows in publication order (parked rows excluded).
    func unsentOutbox(limit: Int) throws -> [OutboxEntry]
    /// How many outbox rows are parked as undeliverable.
    func parkedOutboxCount() throws -> Int
    /// The newest `limit` parked rows, newest first.
    func parkedOutbox(limit: Int) throws -> [ParkedOutboxEntry]
    /// Outbox rows for one topic and key, in order. Delivered rows are deleted by the relay
    /// (``StoreTransaction/deleteDelivered(_:)``): a record's audit trail is ``auditLog(of:)``.
    func outbox(topic: String, key: Data) throws -> [OutboxEntry]
    /// Rows of one topic in outbox order, after `afterID`, for tools that page through a topic's
    /// history (audit verify); not a hot-path query.
    func outbox(topic: String, afterID: Int64, limit: Int) throws -> [OutboxEntry]
    /// The newest `limit` rows of one topic, newest first (`audit --tail`).
    func latestOutbox(topic: String, limit: Int) throws -> [OutboxEntry]
    /// One record's audit events as published, oldest first (`crmsync audit --id`, purge).
    func auditLog(of id: GoldenID) throws -> [AuditLogEntry]
    /// Audit events in the order written, after `afterID`, for paging through all (audit verify).
    func auditLog(afterID: Int64, limit: Int) throws -> [AuditLogEntry]
    /// The newest `limit` audit events, newest first (`crmsync audit --tail`).
    func latestAuditLog(limit: Int) throws -> [AuditLogEntry]
    /// Every record's audit head (for verifying that no trailing event is missing).
    func auditHeads() throws -> [String: AuditHead]
    /// Next offset to consume per partition of `topic`.
    func consumedOffsets(topic: String) throws -> [Int32: Int64]
    func auditHead(of id: GoldenID) throws -> AuditHead?
    /// Live (not merged, not deleted) records per entity. Summary: reads a whole index.
    func recordCounts() throws -> [Entity: Int]
    /// Outcome counters per source. Summary for `crmsync stats`.
    func outcomeCounts() throws -> [OutcomeCount]
    /// Dead letters written per error class, most first.
    func deadLetterCounts() throws -> [DeadLetterCount]
    /// Events processed from the hour bucket starting at `hour` (epoch ms, see
    /// ``HourBucket/start(of:)``) on, by source, system and outcome.
    func eventCounts(sinceHour hour: Int64) throws -> [EventWindowCount]
    /// Live (not merged away) records soft-deleted before `time` (event time) whose last change
    /// was also written before `time` (wall clock: a late-arriving old delete still gets its full
    /// grace period), by deletion time then id, after the cursor `after` (the last record of the
    /// previous page). For `crmsync purge`.
    func softDeletedRecords(deletedBefore time: Timestamp, after: SoftDeleteCursor?, limit: Int) throws -> [GoldenRecord]
    /// How many remembered event ids were first seen before `time` (a dry run of
    /// ``StoreTransaction/purgeEventIDs(olderThan:)``).
    func countEventIDs(seenBefore time: Timestamp) throws -> Int
    /// How many alarms of each kind were raised (kinds never raised are absent).
    func alarmCounts() throws -> [Alarm.Kind: Int]
    /// The newest `limit` alarms, newest first.
    func latestAlarms(limit: Int) throws -> [Alarm]
}

/// Write access inside one transaction (``GoldenStore/write(_:)``).
public protocol StoreTransaction: StoreReader {
    /// The record with this id for a writer that recomputes its content from the policy state:
    /// `fields`, `provenance` and `consent` are left empty (not decoded), everything else is
    /// read. Decoding those JSON columns was a tenth of the write path's time. With the
    /// record's audit head, which the writer needs next (one read instead of two).
    func recordForRewrite(_ id: GoldenID) throws -> RecordForRewrite?
    /// Notes a near match of two records (a conflict scoring below the review threshold) once
    /// per pair; returns whether it was new. See ``NearMatch``.
    @discardableResult
    func noteNearMatch(_ match: NearMatch) throws -> Bool
    /// Moves one event's count from one outcome to another (a held event approved later), so the
    /// accounting identity keeps counting every input exactly once.
    func moveOutcome(from old: EventOutcome, to new: EventOutcome, source: String, at time: Timestamp) throws
    /// Runs `body` in a savepoint: if it throws, everything it wrote is rolled back and the
    /// error rethrown, while the enclosing transaction goes on (one bad message, not the batch).
    func savepoint<T>(_ body: () throws -> T) throws -> T
    /// Inserts a new record; ``StoreError/Kind/duplicateRecord`` if the id exists.
    func insertRecord(_ record: GoldenRecord) throws
    /// Replaces a record; its `version` must be exactly the stored version + 1
    /// (``StoreError/Kind/versionConflict`` otherwise).
    func updateRecord(_ record: GoldenRecord) throws
    /// Points the crosswalk entry of `reference` at `id`, re-pointing it if it pointed elsewhere
    /// (lead → contact conversion, merges).
    func link(_ reference: ExternalReference, entity: Entity, to id: GoldenID, eventID: String?, at time: Timestamp) throws
    /// Adds identifiers to the record's identity index and keeps the per-identifier counts.
    func index(_ keys: [IdentityKey], entity: Entity, for id: GoldenID) throws
    /// Merges the identity of `absorbed` into `survivor`: crosswalk entries and identifiers move,
    /// `absorbed` becomes a tombstone (`merged_into`, version + 1), the merge is recorded. Field
    /// values are the ownership engine's job (both records' `policyState` are still readable).
    @discardableResult
    func mergeIdentity(absorbed: GoldenID, into survivor: GoldenID, reason: String, eventID: String?,
                       at time: Timestamp) throws -> MergeEntry
    /// Carries out dedup's decision: creates (version 0), merges, links references and indexes
    /// identifiers. nil for `.review` and `.notFound` (nothing is written).
    func applyIdentity(_ resolution: IdentityResolution, event: NormalizedEvent, at time: Timestamp) throws -> AppliedIdentity?
    /// Remembers an event id; false (and nothing written) when it was already remembered.
    @discardableResult
    func rememberEvent(_ event: RememberedEvent) throws -> Bool
    /// Changes a remembered event's outcome (a held event applied after review).
    func updateEventOutcome(system: String, eventID: String, outcome: EventOutcome, goldenID: GoldenID?) throws
    /// Counts `count` events of `source` with `outcome` for `stats` (the pipeline adds up a
    /// whole batch and writes each counter once); `time` is the latest of them.
    func countOutcome(_ outcome: EventOutcome, source: String, count: Int, at time: Timestamp) throws
    /// Counts the dead letters a batch wrote, by error class; `time` is when.
    func countDeadLetters(_ byClass: [String: Int], at time: Timestamp) throws
    /// Adds a batch's events by source, system and outcome to the hour bucket of `time`.
    func countEvents(_ counts: [EventCountKey: Int], at time: Timestamp) throws
    /// Notes that events of these sources and systems were applied at `time` (silence detection).
    func noteApplied(_ pairs: Set<SourceSystem>, at time: Timestamp) throws
    /// Opens a review request; false when one with this id exists already.
    @discardableResult
    func openReviewRequest(_ request: ReviewRequest) throws -> Bool
    /// Approves or rejects an open request; ``StoreError/Kind/notFound`` if it is not open.
    func resolveReviewRequest(_ id: String, status: ReviewStatus, at time: Timestamp) throws
    /// Appends to the outbox; returns the row id (publication order).
    @discardableResult
    func enqueue(_ message: OutboxMessage) throws -> Int64
    /// Appends several rows to the outbox, in this order (as that many ``enqueue(_:)`` calls, in
    /// fewer statements; the row ids are not returned).
    func enqueue(contentsOf messages: [OutboxMessage]) throws
    func markSent(_ ids: [Int64], at time: Timestamp) throws
    /// Deletes rows the broker acknowledged (the relay's way of marking them sent): the outbox
    /// holds only what is still to publish, so the store stops growing with every version
    /// published. Parked rows stay for the operator.
    func deleteDelivered(_ ids: [Int64]) throws
    /// Keeps an audit event in the audit log (what `audit`, `audit verify` and `purge` read),
    /// next to its outbox row; the log outlives the outbox row.
    func appendAuditLog(_ entry: AuditLogEntry) throws
    /// Parks an unsent row the broker will never accept: the relay skips it from now on (it
    /// stays in the outbox, with `reason`, for the operator).
    func parkOutbox(_ id: Int64, reason: String, at time: Timestamp) throws
    /// Records the next offset to consume for a partition.
    func commitOffset(topic: String, partition: Int32, next offset: Int64) throws
    /// Records an alarm; returns its row id.
    @discardableResult
    func raiseAlarm(_ alarm: Alarm) throws -> Int64
    /// Moves a record's audit chain head; `head.seq` must be the previous seq + 1 (1 for the
    /// first), else ``StoreError/Kind/auditGap``.
    func advanceAuditHead(of id: GoldenID, to head: AuditHead) throws
    /// Forgets event ids first seen before `time`; returns how many.
    @discardableResult
    func purgeEventIDs(olderThan time: Timestamp) throws -> Int
    /// Hard-deletes a record (`crmsync purge`): its row, its crosswalk entries and identifiers
    /// (so nothing matches it any more), and the tombstones merged into it. The audit head
    /// stays, so the record's audit chain remains verifiable. ``StoreError/Kind/notFound`` if
    /// the record does not exist.
    func purgeRecord(_ id: GoldenID) throws -> PurgedRecord
}

/// A store failure with the context to act on it.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The store file does not exist (read-only commands never create one).
        case missingStore = "missing-store"
        /// The file is not a crmsync store, or its schema is newer/older than this binary's.
        case schema
        /// The store is a crmsync store of an older schema: `crmsync run` applies the missing migrations.
        case needsMigration = "needs-migration"
        /// SQLite busy or locked: retry with backoff.
        case busy
        /// The disk (or the database's size limit) is full: retry with backoff once space is freed.
        case diskFull = "disk-full"
        /// An I/O error (SQLITE_IOERR, including SHMSIZE) or out of memory: retry with backoff.
        case ioError = "io-error"
        /// The database file is corrupt or not a database (SQLITE_CORRUPT, SQLITE_NOTADB):
        /// nothing can be applied; the processor stops instead of dead-lettering every event.
        case corrupt
        /// Any other SQLite error.
        case sqlite
        case notFound = "not-found"
        case duplicateRecord = "duplicate-record"
        case versionConflict = "version-conflict"
        case invalidMerge = "invalid-merge"
        case auditGap = "audit-gap"
        /// A call the store cannot carry out as asked (e.g. resolving a review to `open`).
        case invalidRequest = "invalid-request"
        /// A stored row could not be decoded.
        case corruptRow = "corrupt-row"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether retrying later can succeed (docs/contract.md#transient-failures: retried, never dead-lettered).
    public var isTransient: Bool { kind == .busy || kind == .diskFull || kind == .ioError }

    public var description: String { "store \(kind.rawValue): \(message)" }
}

extension StoreTransaction {
    /// Counts one event of `source` with `outcome` for `stats`.
    public func countOutcome(_ outcome: EventOutcome, source: String, at time: Timestamp) throws {
        try countOutcome(outcome, source: source, count: 1, at: time)
    }
}
