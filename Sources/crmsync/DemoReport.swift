import Foundation
import DeadLetters
import Kafka
import Store

/// Prints what the demo's output topics and store hold, for a person to read.
enum DemoReport {
    static func json(_ message: ConsumerMessage) -> [String: Any] {
        guard let value = message.value, let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any] else { return [:] }
        return object
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "–"
        case let string as String: return string
        case let number as NSNumber:
            // JSON booleans arrive as NSNumber too; print them as booleans.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        case let array as [Any]: return "[" + array.map { text($0) }.joined(separator: ", ") + "]"
        case let object as [String: Any]:
            if let channel = object["channel"] { return "\(text(channel)):\(text(object["granted"]))" }
            return "{" + object.keys.sorted().map { "\($0): \(text(object[$0]))" }.joined(separator: ", ") + "}"
        default: return "\(value!)"
        }
    }

    static func printGolden(_ messages: [ConsumerMessage]) {
        // The latest version per key, like a compacted topic's reader.
        var latest: [String: [String: Any]] = [:]
        for message in messages {
            let document = json(message)
            guard let id = document["id"] as? String else { continue }
            let version = (document["version"] as? NSNumber)?.intValue ?? 0
            if ((latest[id]?["version"] as? NSNumber)?.intValue ?? -1) < version { latest[id] = document }
        }
        print("\ngolden records on golden.records.v1 (latest version of each, \(messages.count) messages):")
        for (id, document) in latest.sorted(by: { $0.key < $1.key }) {
            let entity = text(document["entity"])
            if let survivor = document["merged_into"] as? String {
                print("  \(id) (\(entity)) merged into \(survivor)")
                continue
            }
            let deleted = document["deleted_at"] is NSNull ? "" : "  [soft-deleted \(text(document["deleted_at"]))]"
            print("  \(id) (\(entity), version \(text(document["version"])))\(deleted)")
            let fields = document["fields"] as? [String: Any] ?? [:]
            let provenance = document["provenance"] as? [String: [String: Any]] ?? [:]
            for field in fields.keys.sorted() {
                let owner = provenance[field].map { "\(text($0["source"]))/\(text($0["system"])) by \(text($0["rule"]))" } ?? ""
                print("      \(field.padding(toLength: 18, withPad: " ", startingAt: 0)) \(text(fields[field]).padding(toLength: 32, withPad: " ", startingAt: 0)) ← \(owner)")
            }
            let external = document["external_ids"] as? [String: [String]] ?? [:]
            print("      external ids: " + external.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.joined(separator: "|"))" }.joined(separator: ", "))
        }
    }

    static func printAudit(_ messages: [ConsumerMessage]) {
        let events = messages.map(json)
        let byRecord = Dictionary(grouping: events) { text($0["golden_id"]) }
        guard let (id, trail) = byRecord.max(by: { $0.value.count < $1.value.count }) else { return }
        print("\naudit trail of \(id) on audit.events.v1 (\(messages.count) audit events in all):")
        for event in trail.sorted(by: { (($0["seq"] as? NSNumber)?.intValue ?? 0) < (($1["seq"] as? NSNumber)?.intValue ?? 0) }) {
            print("  #\(text(event["seq"])) \(text(event["operation"])) by \(text(event["source"]))/\(text(event["system"])) event \(text(event["event_id"]))  hash \(text(event["hash"]).prefix(12))…")
            for change in event["changes"] as? [[String: Any]] ?? [] {
                print("      \(text(change["field"])): \(text(change["before"])) → \(text(change["after"]))  (\(text(change["rule"])))")
            }
            for rejection in event["rejected"] as? [[String: Any]] ?? [] {
                print("      rejected \(text(rejection["field"])) = \(text(rejection["value"]))  (\(text(rejection["rule"])))")
            }
        }
    }

    static func printReviews(_ messages: [ConsumerMessage]) {
        guard !messages.isEmpty else { return }
        print("\nreview requests on review.requests.v1:")
        for message in messages {
            let review = json(message)
            print("  \(text(review["review_id"])) [\(text(review["kind"]))] \(text(review["reason"])) for \(text(review["golden_id"]))")
        }
    }

    static func printDeadLetters(_ messages: [ConsumerMessage]) {
        guard !messages.isEmpty else { return }
        print("\ndead letters on dlq.events.v1 (original bytes kept):")
        for letter in messages.compactMap(DeadLetter.init(letter:)) {
            print("  \(letter.originalTopic)@\(letter.originalOffset): \(letter.error.errorClass.rawValue) at \(letter.error.fieldPath ?? "–"): \(letter.error.message)")
        }
    }

    static func printAccounting(_ store: SQLiteStore) throws {
        let counts = try store.read { try $0.outcomeCounts() }
        var totals: [EventOutcome: Int64] = [:]
        for count in counts { totals[count.outcome, default: 0] += count.count }
        let total = totals.values.reduce(0, +)
        print("\naccounting: \(total) events = \(totals[.applied] ?? 0) applied + \(totals[.duplicate] ?? 0) duplicate + \(totals[.review] ?? 0) held for review + \(totals[.deadLettered] ?? 0) dead-lettered")
    }
}
