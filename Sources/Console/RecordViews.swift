import Audit
import CRMModel
import Dedup
import Foundation
import Store

/// The record page: lookup by email, external id or golden id, and the record as a context.
enum RecordViews {
    static let auditPageSize = 50

    /// The golden id a search names, or a sentence saying why there is none.
    static func find(_ query: String, reader: any StoreReader) throws -> Result<GoldenID, LookupFailure> {
        let text = query.trimmingCharacters(in: .whitespaces)
        if text.contains("@") {
            let key = IdentityKey.email(matching: text)
            let match = try reader.records(with: key, entity: .contact, limit: 10)
            switch match.recordIDs.count {
            case 0: return .failure(LookupFailure(message: "No contact has the email \(text)."))
            case 1: return .success(match.recordIDs[0])
            default: return .failure(LookupFailure(message: "\(match.total) records share the email \(text): \(match.recordIDs.joined(separator: ", ")). Search by id."))
            }
        }
        if try reader.record(text) != nil { return .success(text) }
        if let colon = text.firstIndex(of: ":") {
            let reference = ExternalReference(system: String(text[..<colon]), id: String(text[text.index(after: colon)...]))
            for entity in Entity.allCases {
                if let id = try reader.goldenID(for: reference, entity: entity) { return .success(id) }
            }
        }
        return .failure(LookupFailure(message: "No record matches \(text). Try an email, SYSTEM:ID (e.g. salesforce:003A) or a golden id."))
    }

    struct LookupFailure: Error { var message: String }

    /// The record's page context; `auditPage` 0 is the newest entries.
    /// `absorbed`: show the record `requested` names as it was when a merge absorbed it (its
    /// tombstone keeps the fields it had), not the survivor it now points at.
    static func record(requested: GoldenID, reader: any StoreReader, auditTopic: String, auditPage: Int, absorbed: Bool = false) throws -> [String: Any]? {
        let found = absorbed ? try reader.record(requested) : try reader.liveRecord(requested)
        guard let record = found else { return nil }
        let externalIDs = try reader.externalIDs(of: record.id)
        let merges = try reader.merges(involving: record.id)
        let reviews = try reader.openReviewRequests(goldenID: record.id)
        // The audit log keeps every published audit event (the outbox forgets delivered rows).
        let rows = try reader.auditLog(of: record.id)
        let events = rows.compactMap { try? JSONDecoder().decode(AuditEvent.self, from: $0.value) }
        var problems = AuditVerifier.verify(events).map(\.description)
        if events.count < rows.count { problems.append("\(rows.count - events.count) unreadable audit row(s)") }
        if let head = try reader.auditHead(of: record.id), let last = events.max(by: { $0.seq < $1.seq }),
           last.seq != Int(head.seq) || last.hash != head.lastHash {
            problems.append("the chain ends at #\(last.seq), the store's head says #\(head.seq)")
        }
        let newestFirst = events.sorted { $0.seq > $1.seq }
        let page = max(0, auditPage)
        let shown = newestFirst.dropFirst(page * auditPageSize).prefix(auditPageSize)
        var context: [String: Any] = [
            "id": record.id, "entity": record.entity.rawValue, "version": record.version,
            "createdAt": record.createdAt.rfc3339, "updatedAt": record.updatedAt.rfc3339,
            "fields": Formatting.orderedFields(Set(record.fields.keys)).map { name -> [String: Any] in
                let origin = record.provenance[name]
                return ["name": name, "value": Formatting.value(record.fields[name]),
                        "owner": origin.map { "\($0.source.rawValue)/\($0.system)" } ?? "–", "rule": origin?.rule ?? "–",
                        "eventID": origin?.eventID ?? "–", "occurredAt": origin?.occurredAt.rfc3339 ?? ""]
            },
            "consent": record.consent.map { consent -> [String: Any] in
                ["channel": consent.channel, "purpose": consent.purpose ?? "–", "state": consent.granted ? "granted" : "withdrawn",
                 "stateClass": consent.granted ? "ok" : "bad", "at": consent.at.rfc3339, "via": "\(consent.source.rawValue)/\(consent.system)"]
            },
            "hasConsent": !record.consent.isEmpty,
            "externalIDs": externalIDs.keys.sorted().map { ["system": $0, "ids": externalIDs[$0, default: []].joined(separator: ", ")] },
            "merges": merges.map { merge -> [String: Any] in
                ["at": merge.mergedAt.rfc3339, "survivor": merge.survivorID, "absorbed": merge.absorbedID, "reason": merge.reason,
                 "absorbedLink": "/console/records?q=\(merge.absorbedID)&absorbed=1",
                 "ids": merge.absorbedExternalIDs.keys.sorted().map { "\($0): \(merge.absorbedExternalIDs[$0, default: []].joined(separator: ", "))" }.joined(separator: "; ")]
            },
            "hasMerges": !merges.isEmpty,
            "reviews": reviews.map { ["id": $0.id, "kind": $0.kind.rawValue, "reason": $0.reason] },
            "hasReviews": !reviews.isEmpty,
            "chainState": problems.isEmpty ? "hash chain verified" : "hash chain broken",
            "chainClass": problems.isEmpty ? "ok" : "bad",
            "auditSummary": problems.isEmpty
                ? "\(events.count) audit event(s), each linked to the one before by its hash."
                : problems.prefix(5).joined(separator: "; "),
            "audit": shown.map { event -> [String: Any] in
                ["seq": event.seq, "at": event.appliedAt.rfc3339, "operation": event.operation.rawValue.replacingOccurrences(of: "_", with: " "),
                 "eventID": event.eventID, "by": event.actor ?? "\(event.source.rawValue)/\(event.system)",
                 "changes": event.changes.map { ["field": $0.field, "before": Formatting.value($0.before), "after": Formatting.value($0.after), "rule": $0.rule] },
                 "rejected": event.rejected.map { ["field": $0.field, "value": Formatting.value($0.value), "rule": $0.rule] }]
            },
        ]
        let keptOut = KeptOutValues.rows(newestFirst, record: record)
        context["keptOut"] = keptOut.rows
        context["hasKeptOut"] = !keptOut.rows.isEmpty
        context["keptOutSummary"] = keptOut.summary
        if newestFirst.count > (page + 1) * auditPageSize {
            context["auditOlder"] = "/console/records?q=\(record.id)\(absorbed ? "&absorbed=1" : "")&audit_page=\(page + 1)"
        }
        if let deleted = record.deletedAt {
            context["stateBadge"] = "deleted \(deleted.rfc3339)"
            context["stateClass"] = "bad"
        } else {
            context["stateBadge"] = "live"
            context["stateClass"] = "ok"
        }
        if requested != record.id { context["requestedOther"] = "\(requested) was merged into this record" }
        if let survivor = record.mergedInto {
            context["stateBadge"] = "absorbed"
            context["stateClass"] = "warn"
            context["absorbedInto"] = survivor
        }
        return context
    }
}
