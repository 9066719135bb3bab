import GRDB
import GRDBSQLite

// The pipeline runs the same few statements thousands of times per second: compiling each one
// on every call (SQLite's parser plus GRDB's authorizer) cost more than running it. A
// connection keeps its cached statements for its lifetime, so one compile serves every batch.

/// The texts of one INSERT for 1…`maxRows` rows at once, one per row count, so the statement
/// cache holds one compiled statement per count.
struct MultiRowInsert: Sendable {
    let maxRows: Int
    private let texts: [String]

    /// `head` up to `VALUES `, `columns` placeholders per row, then `tail` (e.g. an ON CONFLICT clause).
    init(_ head: String, columns: Int, tail: String = "", maxRows: Int) {
        self.maxRows = maxRows
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        texts = (1...maxRows).map { rows in head + Array(repeating: row, count: rows).joined(separator: ", ") + tail }
    }

    /// The statement for `rows` rows (1…``maxRows``).
    func sql(rows: Int) -> String { texts[rows - 1] }
}

extension Database {
    /// Executes one statement from the connection's statement cache.
    func execute(cached sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// A statement from the connection's cache with its arguments bound by `bind`, in order,
    /// ready for `execute()` or a fetch without arguments. For the writer's hottest statements:
    /// binding straight into SQLite skips the `StatementArguments` array of boxed
    /// `DatabaseValue`s GRDB builds, checks and copies per call.
    func cachedStatement(sql: String, binding bind: (inout StatementBinder) throws -> Void) throws -> Statement {
        let statement = try cachedStatement(sql: sql)
        // Resets the statement and clears its previous bindings; GRDB then executes it with
        // the bindings made below. (A statement that failed is evicted from the cache, so
        // every cached statement can be reset.)
        // sqlite3_reset first: it resets the statement and returns the error of a failed previous
        // step (that step's caller already had it), which GRDB's `try! reset()` inside
        // setUncheckedArguments would otherwise turn into a trap.
        _ = sqlite3_reset(statement.sqliteStatement)
        statement.setUncheckedArguments([])
        var binder = StatementBinder(statement.sqliteStatement)
        try bind(&binder)
        let expected = sqlite3_bind_parameter_count(statement.sqliteStatement)
        guard binder.failure == SQLITE_OK, binder.count == expected else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE,
                                message: "bound \(binder.count) of \(expected) arguments (code \(binder.failure))", sql: sql)
        }
        return statement
    }

    /// Executes one cached statement with arguments bound by `bind` (see ``cachedStatement(sql:binding:)``).
    func execute(cached sql: String, binding bind: (inout StatementBinder) throws -> Void) throws {
        try cachedStatement(sql: sql, binding: bind).execute()
    }
}

/// Binds a statement's arguments one after the other (1, 2, …) with GRDB's own
/// `StatementBinding` conformances, so values are stored exactly as `StatementArguments` stores them.
struct StatementBinder {
    private let handle: SQLiteStatement
    /// How many arguments were bound.
    private(set) var count: CInt = 0
    /// The first failing `sqlite3_bind_*` result, or `SQLITE_OK`.
    private(set) var failure: CInt = SQLITE_OK

    init(_ handle: SQLiteStatement) {
        self.handle = handle
    }

    /// Binds the next argument (nil binds NULL).
    mutating func callAsFunction(_ value: some StatementBinding) {
        count += 1
        let code = value.bind(to: handle, at: count)
        if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
    }
}

extension Row {
    static func fetchOne(cached db: Database, sql: String, arguments: StatementArguments = []) throws -> Row? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(cached db: Database, sql: String, arguments: StatementArguments = []) throws -> [Row] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension DatabaseValueConvertible where Self: StatementColumnConvertible {
    static func fetchOne(cached db: Database, sql: String, arguments: StatementArguments = []) throws -> Self? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(cached db: Database, sql: String, arguments: StatementArguments = []) throws -> [Self] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}
