import CRMModel
import Dedup
import Foundation
import GRDB

/// The embedded default store: one SQLite file in WAL mode through a GRDB `DatabasePool`
/// (one writer, concurrent readers), so read-only commands work while `crmsync run` writes.
public final class SQLiteStore: GoldenStore {
    /// The database file.
    public let path: String
    /// Whether this instance can only read (opened with ``openForReading(path:)``).
    public let isReadOnly: Bool
    // DatabasePool is Sendable (GRDB serializes access itself); `let` keeps this class Sendable.
    private let pool: DatabasePool

    /// Opens the store at `path` for reading and writing, creating the file if needed, and
    /// applies pending migrations.
    ///
    /// - Parameter observingStatements: called with the SQL text (placeholders unexpanded) of
    ///   every statement any of the store's connections runs, for tests that check query plans.
    public init(path: String, observingStatements observer: (@Sendable (String) -> Void)? = nil) throws(StoreError) {
        self.path = path
        self.isReadOnly = false
        do {
            var configuration = Self.configuration(readOnly: false)
            if let observer {
                configuration.prepareDatabase { db in
                    db.trace(options: .statement) { event in
                        if case .statement(let statement) = event { observer(statement.sql) }
                    }
                }
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(pool)
        } catch {
            throw Self.wrap(error, "cannot open the store at \(path)")
        }
    }

    private init(path: String, readOnlyPool: DatabasePool) {
        self.path = path
        self.isReadOnly = true
        self.pool = readOnlyPool
    }

    /// Opens an existing store read-only (never creates one): `records`, `audit`, `stats`,
    /// `review list`. A missing file or a schema of another version is a one-line error.
    public static func openForReading(path: String) throws(StoreError) -> SQLiteStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.missingStore, "no store at \(path) (run `crmsync run` or pass --store PATH)")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration(readOnly: true))
        } catch {
            throw wrap(error, "cannot open the store at \(path)")
        }
        let state: (applied: Set<String>, known: Set<String>)
        do {
            state = try pool.read { db in
                (try Schema.migrator.appliedIdentifiers(db), Set(Schema.migrator.migrations))
            }
        } catch {
            throw StoreError(.schema, "\(path) is not a crmsync store: \(error)")
        }
        guard state.applied == state.known else {
            let missing = state.known.subtracting(state.applied).sorted()
            let unknown = state.applied.subtracting(state.known).sorted()
            throw unknown.isEmpty
                ? StoreError(.needsMigration, "\(path) needs migrations \(missing.joined(separator: ", ")) (start `crmsync run` once to apply them)")
                : StoreError(.schema, "\(path) was written by a newer crmsync (migrations \(unknown.joined(separator: ", ")))")
        }
        return SQLiteStore(path: path, readOnlyPool: pool)
    }

    /// Identifiers of the migrations this binary knows, in order.
    public static var migrationIdentifiers: [String] { Schema.migrator.migrations }

    /// Identifiers of the migrations applied to this store.
    public func appliedMigrations() throws(StoreError) -> [String] {
        do {
            return try pool.read { db in try Schema.migrator.appliedMigrations(db) }
        } catch {
            throw Self.wrap(error, "reading the migration state")
        }
    }

    public func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        do {
            return try pool.write { db in try body(SQLiteTransaction(db)) }
        } catch let error as DatabaseError {
            throw Self.wrap(error, "write transaction")
        }
    }

    public func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        do {
            return try pool.read { db in try body(SQLiteTransaction(db)) }
        } catch let error as DatabaseError {
            throw Self.wrap(error, "read")
        }
    }

    /// Runs raw SQL read access for diagnostics and tests (`EXPLAIN QUERY PLAN`, integrity checks).
    public func readRaw<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// Runs raw SQL in a write transaction, for bulk loads (benchmarks, scaling tests).
    public func writeRaw<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.write(body)
    }

    /// Forgets event ids first seen before `time` (`crmsync purge` keeps ``defaultEventRetentionMilliseconds``).
    @discardableResult
    public func purgeEventIDs(olderThan time: Timestamp) throws -> Int {
        try write { try $0.purgeEventIDs(olderThan: time) }
    }

    /// The default retention of remembered event ids: 90 days, longer than any topic an event
    /// can be redelivered (7 days) or replayed (dead letters, 30 days) from.
    public static let defaultEventRetentionMilliseconds: Int64 = 90 * 86_400_000

    private static func configuration(readOnly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readOnly
        // A writer holds the lock for one batch; waiting a few seconds beats failing.
        configuration.busyMode = .timeout(5)
        configuration.label = "crmsync.store"
        if !readOnly {
            configuration.prepareDatabase { db in
                // FULL: a commit is on disk before the relay can publish its outbox rows. With
                // NORMAL an OS crash could lose a commit whose audit event was already published,
                // and re-applying it would put a second, different event at the same seq.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // 32 MiB of page cache for the writer (SQLite's default is 2 MiB): with 100,000s of
                // records the identity indexes and records no longer fit, and every miss is a read
                // syscall. Not for the pool's readers (read-only connections): six caches that size
                // would be most of the memory budget.
                if !db.configuration.readonly {
                    try db.execute(sql: "PRAGMA cache_size = -32768")
                    // Every message runs in a savepoint, and SQLite keeps a savepoint's original
                    // pages in a statement journal: a temporary file by default, i.e. ~70 write
                    // syscalls per message (`strace -c`) and the kernel's dirty-page throttling.
                    // In memory it is a few pages per message, freed when the savepoint ends.
                    try db.execute(sql: "PRAGMA temp_store = MEMORY")
                    // Checkpoint every 32 MiB of WAL instead of every 4 MiB: a page changed by
                    // several batches is copied to the database file once, with fewer fsyncs on
                    // the writer's path. Bounds the WAL at about that size.
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
                }
            }
        }
        return configuration
    }

    static func wrap(_ error: any Error, _ context: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError {
            let code = error.resultCode
            if code == .SQLITE_BUSY || code == .SQLITE_LOCKED {
                return StoreError(.busy, "\(context): \(error.message ?? "database is busy")")
            }
            if code == .SQLITE_FULL {
                return StoreError(.diskFull, "\(context): \(error.message ?? "database or disk is full")")
            }
            if code == .SQLITE_NOTADB || code == .SQLITE_CORRUPT {
                return StoreError(.corrupt, "\(context): not a crmsync store, or a corrupt one (\(error.message ?? "\(code)"))")
            }
            if code == .SQLITE_IOERR || code == .SQLITE_NOMEM {
                return StoreError(.ioError, "\(context): \(error.message ?? "\(code)") (extended code \(error.extendedResultCode.rawValue))")
            }
            return StoreError(.sqlite, "\(context): \(error.message ?? "\(code)")")
        }
        return StoreError(.sqlite, "\(context): \(error)")
    }
}
