import CRMModel
import Foundation

/// How values read on the pages (plain text: the templates escape it).
enum Formatting {
    static func value(_ value: FieldValue?) -> String {
        guard let value else { return "–" }
        switch value {
        case .string(let text): return text
        case .number(let number): return "\(number)"
        case .bool(let flag): return flag ? "yes" : "no"
        case .timestamp(let time): return time.rfc3339
        case .set(let values): return values.joined(separator: ", ")
        case .consent(let records): return "\(records.count) consent record(s)"
        case .null: return "(cleared)"
        }
    }

    static func provenance(_ origin: Provenance?) -> String? {
        guard let origin else { return nil }
        return "\(origin.source.rawValue)/\(origin.system) · \(origin.rule) · \(origin.eventID)"
    }

    /// "just now", "5 min ago", "3 h ago", "2 days ago".
    static func age(of time: Timestamp, now: Timestamp) -> String {
        let seconds = max(0, (now.epochMilliseconds - time.epochMilliseconds) / 1_000)
        switch seconds {
        case ..<60: return "just now"
        case ..<3_600: return "\(seconds / 60) min ago"
        case ..<172_800: return "\(seconds / 3_600) h ago"
        default: return "\(seconds / 86_400) days ago"
        }
    }

    /// A review reason as a sentence a reviewer reads.
    static func reason(_ reason: String) -> String {
        switch reason {
        case "name_company_only": return "only the name and company match"
        case "conflict": return "its identifiers point at different records"
        case "ambiguous": return "several records match equally well"
        default: return reason.replacingOccurrences(of: "_", with: " ")
        }
    }

    static func score(_ score: Double) -> String { String(format: "%.2f", score) }

    /// The person an event or record is about, for lists.
    static func subject(_ fields: [String: FieldValue]) -> String {
        let name = [fields["first_name"], fields["last_name"]].compactMap { $0?.stringValue }.joined(separator: " ")
        if !name.isEmpty { return name }
        // Deals and accounts have a `name`; a contact without one is known by its email.
        return fields["name"]?.stringValue ?? fields["email"]?.stringValue ?? fields["company_name"]?.stringValue ?? "(no name)"
    }

    /// Fields in the catalogue's order first (email, names, phone, …), then the rest by name.
    static func orderedFields(_ names: Set<String>) -> [String] {
        let known = FieldCatalogue.partyFields.map(\.name) + FieldCatalogue.accountOnlyFields.map(\.name) + FieldCatalogue.dealFields.map(\.name)
        var seen = Set<String>()
        let first = known.filter { names.contains($0) && seen.insert($0).inserted }
        return first + names.subtracting(first).sorted()
    }
}
