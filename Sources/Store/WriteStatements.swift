import Foundation
import GRDB

// Outbox rows, audit-log rows and the per-message savepoint: written several per statement
// where the writer has several at once, and through cached statements (GRDB's own savepoint
// compiles `SAVEPOINT` and `RELEASE` on every call, twice per message).

extension SQLiteTransaction {
    func enqueue(contentsOf messages: [OutboxMessage]) throws {
        try insertOutbox(messages)
    }

    /// Inserts outbox rows in order, several per statement.
    func insertOutbox(_ messages: some Collection<OutboxMessage>) throws {
        var rest = messages[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(WriteStatementSQL.outbox.maxRows)
            rest = rest.dropFirst(chunk.count)
            try db.execute(cached: WriteStatementSQL.outbox.sql(rows: chunk.count)) { bind in
                for message in chunk {
                    bind(message.topic); bind(message.key); bind(message.value); bind(JSONColumns.encodeHeaders(message.headers))
                    bind(message.createdAt.epochMilliseconds)
                }
            }
        }
    }

    func appendAuditLog(_ entry: AuditLogEntry) throws {
        try db.execute(cached: "INSERT INTO audit_log (id, golden_id, seq, value) VALUES (?, ?, ?, ?)") { bind in
            bind(entry.id == 0 ? nil : entry.id); bind(entry.goldenID); bind(entry.seq); bind(entry.value)
        }
    }

    /// `body` inside `SAVEPOINT message … RELEASE message`, rolled back to the savepoint if it
    /// throws. Always inside the batch's transaction (``SQLiteStore/write(_:)``), so a savepoint
    /// never starts a transaction of its own.
    func withSavepoint<T>(_ body: () throws -> T) throws -> T {
        try db.execute(cached: "SAVEPOINT message")
        let result: T
        do {
            result = try body()
        } catch {
            // A failure that ended the whole transaction (SQLite rolls back on some errors)
            // leaves no savepoint to return to: the caller gets the first error either way.
            if db.isInsideTransaction {
                do {
                    try db.execute(cached: "ROLLBACK TO SAVEPOINT message")
                    try db.execute(cached: "RELEASE SAVEPOINT message")
                } catch let undo {
                    // The message's writes could not be undone: the whole batch must roll back
                    // and be retried, never commit them beside the message's dead letter (the
                    // caller dead-letters only on errors that are not transient).
                    let failure = SQLiteStore.wrap(undo, "rolling back a failed message")
                    throw failure.isTransient || failure.kind == .corrupt ? failure : StoreError(.ioError, failure.message)
                }
            }
            throw error
        }
        try db.execute(cached: "RELEASE SAVEPOINT message")
        return result
    }
}

/// The multi-row outbox insert (longer lists are split into statements of 16 rows).
enum WriteStatementSQL {
    static let outbox = MultiRowInsert("INSERT INTO outbox (topic, key, value, headers, created_at) VALUES ", columns: 5, maxRows: 16)
}
