import CRMModel
import Dedup
import Foundation
import GRDB

/// One audit event as published to the audit topic, kept in the store's audit log.
public struct AuditLogEntry: Sendable, Hashable {
    /// Position in the log (write order); assigned by the store when 0.
    public var id: Int64
    public var goldenID: GoldenID
    public var seq: Int64
    /// The event's JSON, byte for byte as published (its hash covers it).
    public var value: Data

    public init(id: Int64 = 0, goldenID: GoldenID, seq: Int64, value: Data) {
        self.id = id
        self.goldenID = goldenID
        self.seq = seq
        self.value = value
    }
}

extension SQLiteTransaction {
    func auditLog(of id: GoldenID) throws -> [AuditLogEntry] {
        try Row.fetchAll(cached: db, sql: Queries.auditLogOfRecord, arguments: [id]).map(Self.decodeAuditLog)
    }

    func auditLog(afterID: Int64, limit: Int) throws -> [AuditLogEntry] {
        try Row.fetchAll(cached: db, sql: "SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                         arguments: [afterID, limit]).map(Self.decodeAuditLog)
    }

    func latestAuditLog(limit: Int) throws -> [AuditLogEntry] {
        try Row.fetchAll(cached: db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.decodeAuditLog)
    }

    func deleteDelivered(_ ids: [Int64]) throws {
        for id in ids {
            try db.execute(cached: Queries.deleteDelivered, arguments: [id])
        }
    }

    private static func decodeAuditLog(_ row: Row) throws -> AuditLogEntry {
        AuditLogEntry(id: try row.decode(Int64.self, forColumn: "id"), goldenID: try row.decode(String.self, forColumn: "golden_id"),
                      seq: try row.decode(Int64.self, forColumn: "seq"), value: try row.decode(Data.self, forColumn: "value"))
    }
}
