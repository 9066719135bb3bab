import ArgumentParser
import Audit
import CRMModel
import CrmsyncConfig
import Foundation
import Store

/// `crmsync audit (--id ID | --tail [N]) | audit verify`
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the audit trail of a record, the latest writes, or verify every hash chain.",
        discussion: """
        Reads the audit events crmsync wrote (the store's audit log keeps every event it
        publishes to audit.events.v1); works while `crmsync run` is running.
          crmsync audit --id c-…        one record's trail, oldest first
          crmsync audit --tail 20       the 20 newest audit events, newest first
          crmsync audit verify          check every chain: seq from 1 without gaps, each prev_hash
                                        the previous hash, every hash recomputes, the last hash the
                                        store's head. Exit 4 when anything is broken.
        """,
        subcommands: [Show.self, Verify.self],
        defaultSubcommand: Show.self
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show audit events (the default).")

        @OptionGroup var common: CommonOptions

        @Option(help: "A golden record id.")
        var id: String?

        @Option(help: "Show the newest N audit events.")
        var tail: Int?

        @Flag(help: "Print JSON (one array of audit events).")
        var json = false

        func run() async throws {
            try await reportingFailures {
                guard (id == nil) != (tail == nil) else { throw CLIFailure.usage("give exactly one of --id or --tail") }
                if let tail, tail < 1 { throw CLIFailure.usage("--tail must be at least 1") }
                let configuration = try common.load(quietByDefault: true)
                let store = try openStore(configuration)
                let rows = try store.read { reader -> [AuditLogEntry] in
                    if let id { return try reader.auditLog(of: id) }
                    return try reader.latestAuditLog(limit: tail ?? 20)
                }
                let events = try rows.map { try JSONDecoder().decode(AuditEvent.self, from: $0.value) }
                if let id, events.isEmpty { throw CLIFailure.other("no audit events for \(id)") }
                if json {
                    try printJSON(events)
                    return
                }
                for event in events {
                    print("\(event.goldenID) #\(event.seq) \(event.operation.rawValue)  \(event.occurredAt.rfc3339)  \(event.source.rawValue)/\(event.system) event \(event.eventID)\(event.actor.map { " by \($0)" } ?? "")")
                    for change in event.changes {
                        print("    \(change.field): \(describe(change.before)) → \(describe(change.after))  (\(change.rule))")
                    }
                    for rejection in event.rejected {
                        print("    rejected \(rejection.field) = \(describe(rejection.value))  (\(rejection.rule))")
                    }
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify every record's audit hash chain.")

        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await reportingFailures {
                let configuration = try common.load(quietByDefault: true)
                let store = try openStore(configuration)
                // One snapshot for the events and the heads, so a batch committing meanwhile
                // cannot look like a missing event.
                let (rows, heads) = try store.read { reader -> ([AuditLogEntry], [String: AuditHead]) in
                    var rows: [AuditLogEntry] = []
                    var after: Int64 = 0
                    while true {
                        let page = try reader.auditLog(afterID: after, limit: 5_000)
                        guard let last = page.last else { break }
                        after = last.id
                        rows += page
                    }
                    return (rows, try reader.auditHeads())
                }
                var events: [AuditEvent] = []
                for row in rows {
                    do {
                        events.append(try JSONDecoder().decode(AuditEvent.self, from: row.value))
                    } catch {
                        throw CLIFailure.verification("audit log row \(row.id) is not a readable audit event: \(error)")
                    }
                }
                var problems = AuditVerifier.verify(events)
                let lastByRecord = Dictionary(grouping: events, by: \.goldenID).mapValues { $0.max { $0.seq < $1.seq } }
                for (id, head) in heads.sorted(by: { $0.key < $1.key }) {
                    guard let last = lastByRecord[id] ?? nil else {
                        problems.append(AuditProblem(goldenID: id, seq: Int(head.seq), problem: "the store's head has no audit events"))
                        continue
                    }
                    if last.seq != Int(head.seq) || last.hash != head.lastHash {
                        problems.append(AuditProblem(goldenID: id, seq: Int(head.seq), problem: "the chain ends at #\(last.seq), the store's head says #\(head.seq)"))
                    }
                }
                for problem in problems.prefix(50) { print("BROKEN \(problem)") }
                guard problems.isEmpty else {
                    throw CLIFailure.verification("\(problems.count) broken link(s) in the audit trail")
                }
                print("ok: \(events.count) audit events in \(heads.count) chains verified")
            }
        }
    }
}


private func describe(_ value: FieldValue?) -> String {
    guard let value else { return "–" }
    return DemoCommand.show(value)
}
