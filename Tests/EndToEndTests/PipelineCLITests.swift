import Foundation
import GRDB
import Testing

/// The whole pipeline through the binary: `crmsync demo --store F` processes the sample events
/// on its embedded broker; the read-only commands then inspect what it wrote.
@Suite("crmsync demo, stats, records, audit", .serialized, .timeLimit(.minutes(3)))
struct PipelineCLITests {
    let directory: URL
    let store: String

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = directory.appendingPathComponent("demo.sqlite").path
        let demo = try await crmsync(["demo", "--store", store])
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("accounting: 10 events = 8 applied + 0 duplicate + 0 held for review + 2 dead-lettered"))
    }

    @Test("stats --json: the accounting identity and record counts")
    func stats() async throws {
        let result = try await crmsync(["stats", "--json", "--store", store])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let events = try #require(json["events"] as? [String: Int])
        #expect(events == ["total": 10, "applied": 8, "duplicate": 0, "review": 0, "dead_lettered": 2])
        #expect(json["records"] as? [String: Int] == ["contact": 1, "account": 0, "deal": 1])
        let sources = try #require(json["sources"] as? [String: [String: Any]])
        #expect(Set(sources.keys) == ["crm", "map", "billing", "product"])
        #expect(sources["crm"]?["events"] as? Int == 4)
    }

    @Test("one person from four systems is one record; MAP did not overwrite the rep's job title; the unsubscribe holds")
    func goldenRecord() async throws {
        // Any spelling of the mailbox finds it: Gmail dots, +tags, googlemail, case.
        let result = try await crmsync(["records", "get", "--email", "JaneDoe+anything@GoogleMail.com", "--json", "--store", store])
        #expect(result.status == 0, "\(result.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let fields = try #require(record["fields"] as? [String: Any])
        #expect(fields["job_title"] as? String == "VP Engineering")
        #expect(fields["email"] as? String == "jane.doe@gmail.com")
        #expect(fields["email_opt_out"] as? Bool == true)
        #expect(fields["lifecycle_stage"] as? String == "sql")
        let provenance = try #require(record["provenance"] as? [String: [String: Any]])
        #expect(provenance["job_title"]?["source"] as? String == "crm")
        #expect(provenance["email_opt_out"]?["rule"] as? String == "sticky")
        let external = try #require(record["external_ids"] as? [String: [String]])
        #expect(external == ["salesforce": ["003A000001"], "hubspot": ["1001"], "stripe": ["cus_Q1"], "segment": ["u-42"]])
    }

    @Test("audit: the trail shows the rejected MAP value; verify passes, and fails once a stored event is edited")
    func auditTrailAndTampering() async throws {
        let record = try await crmsync(["records", "get", "--external", "hubspot:1001", "--json", "--store", store])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(record.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let trail = try await crmsync(["audit", "--id", id, "--json", "--store", store])
        #expect(trail.status == 0)
        let events = try #require(try JSONSerialization.jsonObject(with: Data(trail.stdout.utf8)) as? [[String: Any]])
        #expect(events.map { $0["seq"] as? Int } == Array(1...events.count).map { Optional($0) }, "seq is gap-free")
        let rejected = events.flatMap { $0["rejected"] as? [[String: Any]] ?? [] }
        let titleChanges = events.flatMap { ($0["changes"] as? [[String: Any]] ?? []).filter { $0["field"] as? String == "job_title" } }
        #expect(titleChanges.last?["after"] as? String == "VP Engineering")
        #expect(rejected.contains { $0["field"] as? String == "job_title" } || titleChanges.count >= 1)

        let verified = try await crmsync(["audit", "verify", "--store", store])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("ok: "), "\(verified.stdout)")
        #expect(verified.stdout.contains("chains verified"))

        // Edit one stored audit event: the chain no longer verifies.
        let queue = try DatabaseQueue(path: store)
        try await queue.write { db in
            try db.execute(sql: """
                UPDATE audit_log SET value = CAST(replace(CAST(value AS TEXT), 'VP Engineering', 'Intern') AS BLOB)
                WHERE CAST(value AS TEXT) LIKE '%VP Engineering%'
                """)
            #expect(db.changesCount == 1)
        }
        let tampered = try await crmsync(["audit", "verify", "--store", store])
        #expect(tampered.status == 4)
        #expect(tampered.stdout.contains("BROKEN \(id)"))
        #expect(tampered.stdout.contains("content was edited"))
    }

    @Test("the store keeps no delivered outbox rows; the audit log keeps every audit event of every chain")
    func deliveredRowsArePruned() async throws {
        let queue = try DatabaseQueue(path: store)
        let (outbox, logged, chained) = try await queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? -1,
             try Int.fetchOne(db, sql: "SELECT sum(seq) FROM audit_heads") ?? -1)
        }
        // The demo stops gracefully, so its relay delivered (and deleted) every row.
        #expect(outbox == 0)
        #expect(logged > 0)
        #expect(logged == chained)
    }

    @Test("read-only commands on a missing store: one line, no file created")
    func missingStore() async throws {
        let missing = directory.appendingPathComponent("nope.sqlite").path
        for command in [["stats"], ["audit", "verify"], ["records", "get", "--id", "c-1"], ["review", "list"], ["review", "approve", "rv-1"]] {
            let result = try await crmsync(command + ["--store", missing])
            #expect(result.status != 0)
            #expect(result.stderrLines.count == 1, "\(command): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: missing))
        }
    }
}
