import ArgumentParser
import CRMModel
import Dedup
import Foundation
import Store

/// `crmsync records ...`
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Inspect golden records.",
        subcommands: [Get.self]
    )

    /// `crmsync records get (--email E | --id ID | --external SYSTEM:ID) [--json]`
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one golden record with its provenance, external ids and merge history.",
            discussion: """
            --email matches through the dedup match key (Gmail dots, +tags and case do not matter). \
            An address whose match key is blocked (a placeholder domain such as example.org is never \
            used to match) is found by the address as stored, exactly (case aside).
            --id and --external of a record merged away show the record it was merged into.
            Reads the store only; works while `crmsync run` is writing.
            Exit codes: 0 found, 1 not found / ambiguous / store missing, 2 bad usage or configuration.
            """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "A contact's email address (any spelling of the same mailbox).")
        var email: String?

        @Option(help: "A golden record id (c-…, a-…, d-…).")
        var id: String?

        @Option(help: "An external id as SYSTEM:ID, e.g. salesforce:0035e00000AbCdE.")
        var external: String?

        @Flag(help: "Print the golden record document (docs/contract.md#golden-record) plus \"merges\" as JSON.")
        var json = false

        func run() async throws {
            try await reportingFailures {
                // Usage errors go through CLIFailure so they exit 2 like every other command's.
                guard [email, id, external].compactMap({ $0 }).count == 1 else {
                    throw CLIFailure.usage("give exactly one of --email, --id, --external")
                }
                if let external, Self.parseExternal(external) == nil {
                    throw CLIFailure.usage("--external must be SYSTEM:ID, e.g. salesforce:003A")
                }
                let configuration = try common.load()
                let store = try openStore(configuration)
                let found: (requested: String, document: GoldenRecordDocument, merges: [MergeEntry])
                do {
                    let storedMatch = try email.map { try storedEmailMatch($0, store: store) } ?? nil
                    found = try store.read { reader in try lookUp(reader, storedMatch: storedMatch) }
                } catch let failure as CLIFailure {
                    throw failure
                } catch let error as StoreError {
                    throw CLIFailure.other("store \(configuration.store): \(error.message)")
                } catch {
                    throw CLIFailure.other("store \(configuration.store): \(error)")
                }
                let nearMatches: [NearMatch]
                do {
                    nearMatches = try store.read { reader in try reader.nearMatches(of: found.document.id) }
                } catch {
                    throw CLIFailure.other("store \(configuration.store): \(error)")
                }
                if json {
                    try printJSON(RecordJSON(document: found.document, merges: found.merges, nearMatches: nearMatches))
                } else {
                    printRecord(found.document, merges: found.merges, requested: found.requested)
                    printNearMatches(nearMatches, of: found.document.id)
                }
            }
        }

        /// Contacts whose stored address is `email` when its match key finds none: a blocked key
        /// (placeholder domain) is never indexed, but the record carrying it must still be found.
        private func storedEmailMatch(_ email: String, store: SQLiteStore) throws -> (ids: [String], total: Int)? {
            let key = IdentityKey.email(matching: email)
            let indexed = try store.read { reader in try reader.records(with: key, entity: .contact, limit: 1) }
            guard indexed.recordIDs.isEmpty else { return nil }
            let found = try store.liveContacts(withStoredEmail: email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased(), limit: 10)
            return found.total == 0 ? nil : found
        }

        private func lookUp(_ reader: any StoreReader, storedMatch: (ids: [String], total: Int)?) throws -> (requested: String, document: GoldenRecordDocument, merges: [MergeEntry]) {
            let requestedID: GoldenID
            let label: String
            if let email {
                let key = IdentityKey.email(matching: email)
                let match = try reader.records(with: key, entity: .contact, limit: 10)
                var (ids, total) = (match.recordIDs, match.total)
                if ids.isEmpty, let storedMatch {
                    (ids, total) = storedMatch
                    FileHandle.standardError.write(Data("note: \(email) is not used to match records (its match key \(key.value) is blocked); found by the stored address\n".utf8))
                }
                switch ids.count {
                case 0: throw CLIFailure.other("no contact with email \(email) (match key \(key.value))")
                case 1: requestedID = ids[0]
                default:
                    throw CLIFailure.other("email \(email) matches \(total) records (\(ids.joined(separator: ", "))); use --id")
                }
                label = "email \(email)"
            } else if let external, let reference = Self.parseExternal(external) {
                var hit: GoldenID?
                for entity in Entity.allCases {
                    if let id = try reader.goldenID(for: reference, entity: entity) { hit = id; break }
                }
                guard let hit else { throw CLIFailure.other("no record with external id \(reference)") }
                requestedID = hit
                label = "external id \(reference)"
            } else if let id {
                requestedID = id
                label = "id \(id)"
            } else {
                throw CLIFailure.usage("give exactly one of --email, --id, --external")
            }
            guard let record = try reader.liveRecord(requestedID) else {
                throw CLIFailure.other("no golden record with \(label)")
            }
            let document = GoldenRecordDocument(record: record, externalIDs: try reader.externalIDs(of: record.id))
            return (requestedID, document, try reader.merges(involving: record.id))
        }

        private func printNearMatches(_ matches: [NearMatch], of id: GoldenID) {
            guard !matches.isEmpty else { return }
            print("near matches (below the review threshold; not queued):")
            for match in matches {
                print("  \(match.other(than: id))  score \(match.score)  shares \(match.key); \(match.differingKey) differs  (event \(match.eventID))")
            }
        }

        static func parseExternal(_ text: String) -> ExternalReference? {
            guard let colon = text.firstIndex(of: ":") else { return nil }
            let system = String(text[..<colon]), id = String(text[text.index(after: colon)...])
            guard !system.isEmpty, !id.isEmpty else { return nil }
            return ExternalReference(system: system, id: id)
        }

        private func printRecord(_ document: GoldenRecordDocument, merges: [MergeEntry], requested: GoldenID) {
            print("\(document.entity.rawValue) \(document.id)  version \(document.version)  updated \(document.updatedAt)")
            if requested != document.id { print("  (\(requested) was merged into this record)") }
            if let deletedAt = document.deletedAt { print("  deleted at \(deletedAt) (soft delete)") }
            if let mergedInto = document.mergedInto { print("  merged into \(mergedInto)") }
            print("external ids:")
            if document.externalIDs.isEmpty { print("  (none)") }
            for system in document.externalIDs.keys.sorted() {
                print("  \(system): \(document.externalIDs[system, default: []].joined(separator: ", "))")
            }
            print("fields:")
            if document.fields.isEmpty { print("  (none)") }
            let width = document.fields.keys.map(\.count).max() ?? 0
            for name in document.fields.keys.sorted() {
                let value = document.fields[name].map(Self.render) ?? ""
                var line = "  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value
                if let origin = document.provenance[name] {
                    line += "    ← \(origin.source.rawValue)/\(origin.system) by \(origin.rule), event \(origin.eventID) at \(origin.occurredAt)"
                }
                print(line)
            }
            if !document.consent.isEmpty {
                print("consent:")
                for consent in document.consent {
                    print("  \(consent.channel)\(consent.purpose.map { "/\($0)" } ?? ""): \(consent.granted ? "granted" : "withdrawn") at \(consent.at) via \(consent.source.rawValue)/\(consent.system)")
                }
            }
            print("merge history:")
            if merges.isEmpty { print("  (none)") }
            for merge in merges {
                let ids = merge.absorbedExternalIDs.keys.sorted().map { "\($0):\(merge.absorbedExternalIDs[$0, default: []].joined(separator: ","))" }
                print("  \(merge.mergedAt)  \(merge.absorbedID) → \(merge.survivorID)  (\(merge.reason)\(merge.eventID.map { ", event \($0)" } ?? ""))"
                      + (ids.isEmpty ? "" : "  absorbed ids \(ids.joined(separator: " "))"))
            }
        }

        static func render(_ value: FieldValue) -> String {
            switch value {
            case .string(let text): return text
            case .number(let number): return "\(number)"
            case .bool(let flag): return flag ? "true" : "false"
            case .timestamp(let time): return time.rfc3339
            case .set(let values): return values.joined(separator: "; ")
            case .consent(let records): return "\(records.count) consent record(s)"
            case .null: return "null"
            }
        }
    }
}

/// The `--json` output: the golden record document plus its merge history.
private struct RecordJSON: Encodable {
    let document: GoldenRecordDocument
    let merges: [MergeEntry]
    let nearMatches: [NearMatch]

    private enum Keys: String, CodingKey {
        case merges
        case nearMatches = "near_matches"
    }

    private struct NearMatchJSON: Encodable {
        var golden_id: String
        var score: Double
        var key: String
        var differing_key: String
        var event_id: String
        var noted_at: String
    }

    func encode(to encoder: any Encoder) throws {
        try document.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(merges, forKey: .merges)
        try container.encode(nearMatches.map {
            NearMatchJSON(golden_id: $0.other(than: document.id), score: $0.score, key: $0.key, differing_key: $0.differingKey,
                          event_id: $0.eventID, noted_at: $0.notedAt.rfc3339)
        }, forKey: .nearMatches)
    }
}
