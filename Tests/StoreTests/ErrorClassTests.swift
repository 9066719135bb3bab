import Foundation
import GRDB
import Testing
@testable import Store

/// Issue 14 item 5: SQLite errors by what they mean for a batch. I/O errors (including SHMSIZE)
/// and out-of-memory are transient (the batch is retried); CORRUPT and NOTADB are `corrupt` (the
/// processor stops, exit 5); neither ever becomes a dead letter.
@Suite struct ErrorClassTests {
    @Test(arguments: [ResultCode.SQLITE_IOERR, .SQLITE_IOERR_SHMSIZE, .SQLITE_IOERR_WRITE, .SQLITE_IOERR_FSYNC, .SQLITE_NOMEM])
    func ioErrorsAndOutOfMemoryAreTransient(code: ResultCode) {
        let error = SQLiteStore.wrap(DatabaseError(resultCode: code, message: "injected"), "write")
        #expect(error.kind == .ioError)
        #expect(error.isTransient)
    }

    @Test(arguments: [ResultCode.SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_CORRUPT_INDEX])
    func corruptionStops(code: ResultCode) {
        let error = SQLiteStore.wrap(DatabaseError(resultCode: code, message: "injected"), "write")
        #expect(error.kind == .corrupt)
        #expect(!error.isTransient)
    }

    @Test func aFileThatIsNotADatabaseIsCorrupt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("junk.sqlite")
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteStore(path: path)
        } throws: { error in
            (error as? StoreError)?.kind == .corrupt
        }
    }
}
