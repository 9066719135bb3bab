import CRMModel
import Foundation
import GRDB

/// Where a `crmsync dlq replay` run stands.
public enum ReplayRunStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// In progress, or its process died (the next replay marks it ``interrupted``).
    case running
    case completed
    /// Stopped before the end (signal, crash, failure); `dlq replay --resume` continues it.
    case interrupted
}

/// What a replay run did so far.
public struct ReplayCounts: Sendable, Hashable, Codable {
    /// Letters read from the DLQ.
    public var scanned: Int64 = 0
    /// Letters the filter selected.
    public var matched: Int64 = 0
    /// Letters re-published.
    public var replayed: Int64 = 0
    /// Matched letters not re-published (replayed before, or at the `--max-replays` limit).
    public var skipped: Int64 = 0

    public init(scanned: Int64 = 0, matched: Int64 = 0, replayed: Int64 = 0, skipped: Int64 = 0) {
        self.scanned = scanned
        self.matched = matched
        self.replayed = replayed
        self.skipped = skipped
    }
}

/// A letter a replay run re-published, as the ledger remembers it.
public struct ReplayedLetter: Sendable, Hashable {
    public var offset: Int64
    public var runID: Int64
    /// Identifies the letter beyond its DLQ offset (see ``DeadLetter/fingerprint``).
    public var fingerprint: String

    public init(offset: Int64, runID: Int64, fingerprint: String) {
        self.offset = offset
        self.runID = runID
        self.fingerprint = fingerprint
    }
}

/// One recorded replay run: who ran it, when, with which options, how far it got.
public struct ReplayRun: Sendable, Hashable {
    public var id: Int64
    public var dlqTopic: String
    public var actor: String
    /// The run's options as JSON (filters, `--max-replays`, `--again`), as the command recorded them.
    public var options: String
    /// The `--to` topic, `nil` when letters go back to their original topics.
    public var targetTopic: String?
    public var status: ReplayRunStatus
    public var startedAt: Timestamp
    public var finishedAt: Timestamp?
    /// Per DLQ partition, the end offset when the run began: the run covers letters below it.
    public var scope: [Int32: Int64]
    /// Per DLQ partition, the next offset the run has not finished with.
    public var cursor: [Int32: Int64]
    public var counts: ReplayCounts
    /// Why the run stopped early, if it did.
    public var note: String?

    /// Whether the cursor reached the end of the scope on every partition.
    public var isAtEnd: Bool {
        scope.allSatisfy { partition, end in (cursor[partition] ?? 0) >= end }
    }
}

/// The replay ledger: runs and the letters they re-published. Operator bookkeeping, kept apart
/// from ``GoldenStore`` (the pipeline never reads it).
extension SQLiteStore {
    /// Records the start of a run and returns it.
    public func startReplayRun(dlqTopic: String, actor: String, options: String, targetTopic: String?,
                               scope: [Int32: Int64], cursor: [Int32: Int64], at time: Timestamp) throws -> ReplayRun {
        try writeLedger("start a replay run") { db in
            try db.execute(sql: """
                INSERT INTO dlq_replay_runs (dlq_topic, actor, options, target_topic, status, started_at, scope, cursor)
                VALUES (?, ?, ?, ?, 'running', ?, ?, ?)
                """, arguments: [dlqTopic, actor, options, targetTopic, time.epochMilliseconds,
                                 try Self.encodeOffsets(scope), try Self.encodeOffsets(cursor)])
            let id = db.lastInsertedRowID
            guard let run = try Self.fetchRun(db, id: id) else { throw StoreError(.notFound, "replay run \(id) vanished") }
            return run
        }
    }

    /// Marks runs still `running` as interrupted: call it while holding the replay lock, when
    /// no other replay can be running, so a `running` row means its process died. Returns them.
    @discardableResult
    public func interruptAbandonedReplayRuns(at time: Timestamp) throws -> [Int64] {
        try writeLedger("close abandoned replay runs") { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM dlq_replay_runs WHERE status = 'running' ORDER BY id")
            try db.execute(sql: """
                UPDATE dlq_replay_runs SET status = 'interrupted', note = 'the replaying process ended without finishing'
                WHERE status = 'running'
                """)
            return ids
        }
    }

    /// Records progress in one transaction: the letters just re-published (delivered), the
    /// run's cursor and its counts.
    public func recordReplayProgress(runID: Int64, dlqTopic: String, replayed letters: [(partition: Int32, offset: Int64, fingerprint: String)],
                                     cursor: [Int32: Int64], counts: ReplayCounts, at time: Timestamp) throws {
        try writeLedger("record replay progress") { db in
            for letter in letters {
                try db.execute(sql: """
                    INSERT INTO dlq_replayed (dlq_topic, partition, offset, run_id, replayed_at, fingerprint) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (dlq_topic, partition, offset) DO UPDATE
                    SET run_id = excluded.run_id, replayed_at = excluded.replayed_at, fingerprint = excluded.fingerprint
                    """, arguments: [dlqTopic, letter.partition, letter.offset, runID, time.epochMilliseconds, letter.fingerprint])
            }
            try db.execute(sql: """
                UPDATE dlq_replay_runs SET cursor = ?, scanned = ?, matched = ?, replayed = ?, skipped = ? WHERE id = ?
                """, arguments: [try Self.encodeOffsets(cursor), counts.scanned, counts.matched, counts.replayed, counts.skipped, runID])
        }
    }

    /// Ends a run (completed, or interrupted with a note) and reopens an interrupted one.
    public func setReplayRunStatus(_ id: Int64, _ status: ReplayRunStatus, note: String?, at time: Timestamp) throws {
        try writeLedger("update replay run \(id)") { db in
            let finished: Int64? = status == .running ? nil : time.epochMilliseconds
            try db.execute(sql: "UPDATE dlq_replay_runs SET status = ?, finished_at = ?, note = ? WHERE id = ?",
                           arguments: [status.rawValue, finished, note, id])
            guard db.changesCount == 1 else { throw StoreError(.notFound, "no replay run \(id)") }
        }
    }

    /// Runs, newest first.
    public func replayRuns(limit: Int) throws -> [ReplayRun] {
        try readLedger("read replay runs") { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM dlq_replay_runs ORDER BY id DESC LIMIT ?", arguments: [limit])
                .compactMap { try Self.fetchRun(db, id: $0) }
        }
    }

    /// The run with this id, if there is one.
    public func replayRun(_ id: Int64) throws -> ReplayRun? {
        try readLedger("read replay run \(id)") { db in try Self.fetchRun(db, id: id) }
    }

    /// The newest interrupted run on `dlqTopic`, the one `--resume` continues.
    public func latestInterruptedReplayRun(dlqTopic: String) throws -> ReplayRun? {
        try readLedger("read replay runs") { db in
            guard let id = try Int64.fetchOne(db, sql: """
                SELECT id FROM dlq_replay_runs WHERE status = 'interrupted' AND dlq_topic = ? ORDER BY id DESC LIMIT 1
                """, arguments: [dlqTopic]) else { return nil }
            return try Self.fetchRun(db, id: id)
        }
    }

    /// The letters at `offsets` of one DLQ partition that were replayed, by offset, with the
    /// run that last did it and the fingerprint of the letter it replayed there.
    public func replayedLetters(dlqTopic: String, partition: Int32, offsets: ClosedRange<Int64>) throws -> [Int64: ReplayedLetter] {
        try readLedger("read replayed letters") { db in
            var result: [Int64: ReplayedLetter] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT offset, run_id, fingerprint FROM dlq_replayed WHERE dlq_topic = ? AND partition = ? AND offset BETWEEN ? AND ?
                """, arguments: [dlqTopic, partition, offsets.lowerBound, offsets.upperBound]) {
                let letter = ReplayedLetter(offset: try row.decode(Int64.self, forColumn: "offset"), runID: try row.decode(Int64.self, forColumn: "run_id"),
                                            fingerprint: try row.decode(String.self, forColumn: "fingerprint"))
                result[letter.offset] = letter
            }
            return result
        }
    }

    /// How many letters of `dlqTopic` have been replayed at least once.
    public func replayedLetterCount(dlqTopic: String) throws -> Int64 {
        try readLedger("count replayed letters") { db in
            try Int64.fetchOne(db, sql: "SELECT count(*) FROM dlq_replayed WHERE dlq_topic = ?", arguments: [dlqTopic]) ?? 0
        }
    }

    // MARK: - Rows

    private static func fetchRun(_ db: Database, id: Int64) throws -> ReplayRun? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM dlq_replay_runs WHERE id = ?", arguments: [id]) else { return nil }
        let statusName = try row.decode(String.self, forColumn: "status")
        guard let status = ReplayRunStatus(rawValue: statusName) else {
            throw StoreError(.corruptRow, "replay run \(id) has unknown status \(statusName)")
        }
        return ReplayRun(
            id: id,
            dlqTopic: try row.decode(String.self, forColumn: "dlq_topic"),
            actor: try row.decode(String.self, forColumn: "actor"),
            options: try row.decode(String.self, forColumn: "options"),
            targetTopic: try row.decode(String?.self, forColumn: "target_topic"),
            status: status,
            startedAt: Timestamp(epochMilliseconds: try row.decode(Int64.self, forColumn: "started_at")),
            finishedAt: try row.decode(Int64?.self, forColumn: "finished_at").map(Timestamp.init(epochMilliseconds:)),
            scope: try decodeOffsets(try row.decode(String.self, forColumn: "scope"), run: id),
            cursor: try decodeOffsets(try row.decode(String.self, forColumn: "cursor"), run: id),
            counts: ReplayCounts(scanned: try row.decode(Int64.self, forColumn: "scanned"),
                                 matched: try row.decode(Int64.self, forColumn: "matched"),
                                 replayed: try row.decode(Int64.self, forColumn: "replayed"),
                                 skipped: try row.decode(Int64.self, forColumn: "skipped")),
            note: try row.decode(String?.self, forColumn: "note")
        )
    }

    /// Offsets per partition as a JSON object with decimal partition keys (`{"0": 12}`).
    private static func encodeOffsets(_ offsets: [Int32: Int64]) throws -> String {
        try JSONColumns.encode(Dictionary(uniqueKeysWithValues: offsets.map { (String($0.key), $0.value) }))
    }

    private static func decodeOffsets(_ text: String, run: Int64) throws -> [Int32: Int64] {
        let raw = try JSONColumns.decode([String: Int64].self, from: text, column: "offsets", id: "replay run \(run)")
        var result: [Int32: Int64] = [:]
        for (key, value) in raw {
            guard let partition = Int32(key) else { throw StoreError(.corruptRow, "replay run \(run): partition \(key) is not a number") }
            result[partition] = value
        }
        return result
    }

    private func writeLedger<T>(_ context: String, _ body: (Database) throws -> T) throws -> T {
        do { return try writeRaw(body) } catch { throw Self.wrap(error, context) }
    }

    private func readLedger<T>(_ context: String, _ body: (Database) throws -> T) throws -> T {
        do { return try readRaw(body) } catch { throw Self.wrap(error, context) }
    }
}
