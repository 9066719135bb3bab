import GRDB

extension SQLiteStore {
    /// Live contacts whose stored `email` is exactly `address` (already trimmed and lower-cased,
    /// as stored), at most `limit`, with how many there are.
    ///
    /// For `records get --email` when the address's match key is blocked (a placeholder domain
    /// such as `example.org`): blocked keys are never indexed, so the person looking for the
    /// record is answered from the stored value instead. This scans the live contacts (no index on
    /// the stored value: it would cost every write for a lookup people rarely need).
    public func liveContacts(withStoredEmail address: String, limit: Int) throws(StoreError) -> (ids: [String], total: Int) {
        do {
            return try readRaw { db in
                let sql = """
                    SELECT id FROM records
                    WHERE entity = 'contact' AND merged_into IS NULL AND deleted_at IS NULL
                      AND json_extract(fields, '$.email') = ?
                    ORDER BY id
                    """
                let ids = try String.fetchAll(db, sql: sql, arguments: [address])
                return (Array(ids.prefix(limit)), ids.count)
            }
        } catch {
            throw Self.wrap(error, "looking up a stored email")
        }
    }
}
