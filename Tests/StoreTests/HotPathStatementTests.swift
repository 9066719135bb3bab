import CRMModel
import Dedup
import Foundation
import GRDB
import Store
import Testing

/// The writer's hot statements after they were combined (several identifiers, several outbox
/// rows per statement; the existence check inside the insert) and bound without
/// `StatementArguments`: the same rows as one statement per row wrote.
@Suite("Store: combined hot-path statements")
struct HotPathStatementTests {
    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore(path: directory.path("store.sqlite"))
    }

    private func counts() throws -> [String: Int] {
        try store.readRaw { db in
            var result: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, value, record_count FROM identifier_counts") {
                result["\(row["kind"] as String):\(row["value"] as String)"] = row["record_count"]
            }
            return result
        }
    }

    @Test("indexing several identifiers at once counts each new one once, repeated and known ones not")
    func indexCountsNewIdentifiersOnly() throws {
        try store.write { tx in
            for id in ["c-a", "c-b"] { try tx.insertRecord(GoldenRecord(id: id, entity: .contact, createdAt: t0, updatedAt: t0)) }
            try tx.index([.email("x@acme.com"), .phone("+14155550100"), .email("x@acme.com"), .personName("ann|lee")],
                         entity: .contact, for: "c-a")
            // Known to c-a already (no count), new to c-a (count), shared with c-b below.
            try tx.index([.email("x@acme.com"), .lastNameCompany("lee|acme.com")], entity: .contact, for: "c-a")
            try tx.index([.email("x@acme.com"), .email("y@acme.com")], entity: .contact, for: "c-b")
            // More identifiers than one statement takes.
            try tx.index((0..<19).map { .email("n\($0)@acme.com") }, entity: .contact, for: "c-b")
        }
        let counts = try counts()
        #expect(counts["email:x@acme.com"] == 2)
        #expect(counts["phone:+14155550100"] == 1)
        #expect(counts["person_name:ann|lee"] == 1)
        #expect(counts["last_name_company:lee|acme.com"] == 1)
        #expect(counts["email:y@acme.com"] == 1)
        #expect((0..<19).allSatisfy { counts["email:n\($0)@acme.com"] == 1 })
        #expect(counts.count == 24)
        try store.read { reader throws in
            #expect(try reader.records(with: .email("x@acme.com"), entity: .contact, limit: 5) == IdentifierMatch(recordIDs: ["c-a", "c-b"], total: 2))
            #expect(try reader.records(with: .email("x@acme.com"), entity: .contact, limit: 1) == IdentifierMatch(recordIDs: ["c-a"], total: 2))
            #expect(try reader.records(with: .email("x@acme.com"), entity: .account, limit: 5) == .none)
            #expect(try reader.records(with: .email("nobody@acme.com"), entity: .contact, limit: 5) == .none)
            #expect(try reader.identity(of: "c-a").keys == [.email("x@acme.com"), .phone("+14155550100"), .personName("ann|lee"),
                                                            .lastNameCompany("lee|acme.com")])
        }
    }

    @Test("an identifier whose count fell to zero matches no record")
    func zeroCountIsNone() throws {
        try store.writeRaw { db in
            try db.execute(sql: "INSERT INTO identifier_counts (entity, kind, value, record_count) VALUES ('contact', 'email', 'gone@acme.com', 0)")
        }
        #expect(try store.read { try $0.records(with: .email("gone@acme.com"), entity: .contact, limit: 5) } == .none)
    }

    @Test("inserting a record whose id is taken is refused and changes nothing")
    func duplicateInsert() throws {
        try store.write { tx in
            try tx.insertRecord(GoldenRecord(id: "c-1", entity: .contact, version: 3, policyState: Data([1, 2]), createdAt: t0, updatedAt: t0))
        }
        #expect {
            try store.write { try $0.insertRecord(GoldenRecord(id: "c-1", entity: .account, createdAt: t0, updatedAt: t0)) }
        } throws: { ($0 as? StoreError)?.kind == .duplicateRecord }
        let stored = try #require(try store.read { try $0.record("c-1") })
        #expect(stored.entity == .contact && stored.version == 3 && stored.policyState == Data([1, 2]))
    }

    @Test("outbox rows enqueued several at once keep their order among single ones, ids consecutive")
    func multiRowOutbox() throws {
        func message(_ index: Int) -> OutboxMessage {
            OutboxMessage(topic: index % 2 == 0 ? "audit.events.v1" : "golden.records.v1", key: index % 3 == 0 ? nil : Data("c-\(index)".utf8),
                          value: Data("v\(index)".utf8), headers: [OutboxHeader("ce_id", "id-\(index)")], createdAt: Timestamp(epochMilliseconds: Int64(index)))
        }
        let first = try store.write { tx in
            let first = try tx.enqueue(message(0))
            try tx.enqueue(contentsOf: (1...2).map(message))
            try tx.enqueue(contentsOf: [])
            try tx.enqueue(contentsOf: (3...40).map(message))
            _ = try tx.enqueue(message(41))
            return first
        }
        let rows = try store.read { try $0.unsentOutbox(limit: 100) }
        #expect(rows.map(\.id) == (0...41).map { first + Int64($0) })
        #expect(rows.map(\.message) == (0...41).map(message))
    }

    @Test("a failed savepoint rolls back its rows and the next message's savepoint works, nested too")
    func savepointsAfterFailures() throws {
        struct Poison: Error {}
        try store.write { tx in
            try tx.savepoint { try tx.enqueue(contentsOf: [OutboxMessage(topic: "t", key: nil, value: Data([1]), createdAt: t0)]) }
            #expect(throws: StoreError.self) {
                try tx.savepoint {
                    try tx.enqueue(contentsOf: [OutboxMessage(topic: "t", key: nil, value: Data([2]), createdAt: t0)])
                    try tx.insertRecord(GoldenRecord(id: "c-1", entity: .contact, createdAt: t0, updatedAt: t0))
                    try tx.insertRecord(GoldenRecord(id: "c-1", entity: .contact, createdAt: t0, updatedAt: t0))
                }
            }
            try tx.savepoint {
                try tx.enqueue(contentsOf: [OutboxMessage(topic: "t", key: nil, value: Data([3]), createdAt: t0)])
                #expect(throws: Poison.self) {
                    try tx.savepoint {
                        try tx.enqueue(contentsOf: [OutboxMessage(topic: "t", key: nil, value: Data([4]), createdAt: t0)])
                        throw Poison()
                    }
                }
            }
        }
        #expect(try store.read { try $0.unsentOutbox(limit: 10).map(\.message.value) } == [Data([1]), Data([3])])
        #expect(try store.read { try $0.record("c-1") } == nil)
    }
}
