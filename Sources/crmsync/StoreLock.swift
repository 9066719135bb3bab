import Foundation

/// An exclusive advisory lock (`flock`) for one writer per store.
///
/// `crmsync run` locks **the store file itself**, so every path that names the file — a
/// symlink, a relative path, another mount of it — meets the same lock: the lock belongs to the
/// file, not to the path string. (SQLite locks with POSIX `fcntl` locks, which on Linux are
/// independent of `flock`, so this lock never interferes with SQLite's own. WAL mode already
/// requires every process on one host, which `flock` covers.) `crmsync dlq replay` keeps its own
/// lock file next to the store's resolved path, so a replay may run beside `run`.
final class StoreLock {
    private let descriptor: Int32
    let path: String

    /// Locks the store file at `storePath` (created empty when missing: SQLite treats an empty
    /// file as a new database).
    init(storeFile storePath: String, holder: String = "`crmsync run`") throws {
        path = storePath
        descriptor = open(storePath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CLIFailure.store("cannot open the store \(storePath) to lock it: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw CLIFailure.store("the store \(storePath) is in use by another \(holder) (whatever path names it); one at a time per store")
        }
    }

    /// Locks a lock file named after the store's resolved path plus `suffix`.
    /// - Parameters:
    ///   - holder: what holds the lock, for the error message.
    init(storePath: String, suffix: String, holder: String) throws {
        let resolved = URL(fileURLWithPath: storePath).resolvingSymlinksInPath().path
        path = resolved + suffix
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CLIFailure.store("cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw CLIFailure.store("the store \(storePath) is in use by another \(holder) (lock \(path)); one at a time per store")
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
