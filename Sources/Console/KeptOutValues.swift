import Audit
import CRMModel
import Store

/// The record page's "values kept out": every value an event offered that the ownership policy
/// refused (`rejected[]` of the audit events), by field, newest first, with a sentence saying why.
enum KeptOutValues {
    /// Rows shown at most (the audit timeline has every one).
    static let limit = 200

    static func rows(_ newestFirst: [AuditEvent], record: GoldenRecord) -> (rows: [[String: Any]], summary: String) {
        var rows: [(field: String, row: [String: Any])] = []
        var total = 0
        for event in newestFirst {
            for rejection in event.rejected {
                total += 1
                guard rows.count < limit else { continue }
                let offeredBy = "\(event.source.rawValue)/\(event.system)"
                rows.append((rejection.field, [
                    "field": rejection.field, "value": Formatting.value(rejection.value), "offeredBy": offeredBy, "rule": rejection.rule,
                    "why": why(rejection, offeredBy: offeredBy, owner: record.provenance[rejection.field]),
                    "at": event.appliedAt.rfc3339, "eventID": event.eventID,
                ]))
            }
        }
        // Grouped by field (stable: newest first within a field).
        let grouped = rows.enumerated().sorted { ($0.element.field, $0.offset) < ($1.element.field, $1.offset) }.map(\.element.row)
        let fields = Set(rows.map(\.field)).count
        let summary = total == 0 ? "" : total > rows.count
            ? "\(total) value(s) kept out; the newest \(rows.count) shown, by field (the audit timeline has all)."
            : "\(total) value(s) kept out of \(fields) field(s), newest first within each field."
        return (grouped, summary)
    }

    /// Why the policy refused it, from the rule's name (the audit event keeps the rule, not the sentence).
    static func why(_ rejection: AuditEvent.Rejection, offeredBy: String, owner: Provenance?) -> String {
        if rejection.value == .null { return "a null never erases a value" }
        let holder = owner.map { "; the value shown comes from \($0.source.rawValue)/\($0.system)" } ?? ""
        switch rejection.rule {
        case "owner", "fill-if-empty", "review", "counter":
            return "\(offeredBy) does not own \(rejection.field) (rule \(rejection.rule))\(holder)"
        case "set-once":
            return "\(rejection.field) keeps its earliest value (set-once)\(holder)"
        case "last-write-wins":
            return "a value with a later event time was already there (last-write-wins)\(holder)"
        case "max":
            return "a larger value was already there (max)\(holder)"
        case "monotonic":
            return "\(offeredBy) may not move \(rejection.field) there: stages only move forward, up to each source's cap (monotonic)"
        default:
            return "refused by rule \(rejection.rule)\(holder)"
        }
    }
}
