import CRMModel
import Dedup
import Foundation
import Ownership
import Store

/// The review queue and request pages as template contexts (pure: store values in, dictionaries out).
enum ReviewViews {
    static let sources = ["crm", "map", "billing", "product"]

    /// One queue row.
    static func row(_ request: ReviewRequest, now: Timestamp) -> [String: Any] {
        let best = request.candidates.map(\.score).max() ?? 0
        var subject = request.goldenID ?? "–"
        var detail = ""
        var source = "–"
        switch request.kind {
        case .identity:
            if let held = try? JSONDecoder().decode(NormalizedEvent.self, from: request.payload) {
                subject = Formatting.subject(held.event.fields)
                detail = held.event.fields["email"]?.stringValue ?? "\(held.event.system):\(held.event.externalID)"
                source = "\(held.event.source.rawValue)/\(held.event.system)"
            }
            detail += " · \(request.candidates.count) candidate(s)"
        case .field:
            if let review = try? FieldReview(losslessJSON: request.payload) {
                subject = "\(review.field): \(Formatting.value(review.currentValue)) → \(Formatting.value(review.proposedValue))"
                detail = "record \(request.goldenID ?? "?")"
                source = "\(review.proposedBy.source.rawValue)/\(review.proposedBy.system)"
            }
        }
        return [
            "id": request.id, "kind": request.kind.rawValue, "reason": Formatting.reason(request.reason),
            // Field conflicts have no match score: they rank after identity questions.
            "score": request.kind == .field ? "–" : Formatting.score(best), "scorePercent": Int((best * 100).rounded()),
            "hasScore": request.kind == .identity,
            "subject": subject, "detail": detail, "source": source,
            "age": Formatting.age(of: request.createdAt, now: now), "createdAt": request.createdAt.rfc3339,
        ]
    }

    /// The request page: the held event (or the proposed value) next to each candidate, field by field.
    static func request(_ request: ReviewRequest, candidates: [GoldenID: GoldenRecord], current: GoldenRecord?, now: Timestamp) -> [String: Any] {
        var context: [String: Any] = [
            "id": request.id, "kind": request.kind.rawValue, "eventID": request.eventID, "statusName": request.status.rawValue,
            "isOpen": request.status == .open, "age": Formatting.age(of: request.createdAt, now: now),
        ]
        switch request.kind {
        case .identity:
            context.merge(identity(request, candidates: candidates)) { $1 }
        case .field:
            context.merge(field(request, record: current)) { $1 }
        }
        return context
    }

    private static func identity(_ request: ReviewRequest, candidates: [GoldenID: GoldenRecord]) -> [String: Any] {
        guard let held = try? JSONDecoder().decode(NormalizedEvent.self, from: request.payload) else {
            return ["title": "Conflict on an applied event", "explanation": "Reject to acknowledge it", "columns": [[String: Any]](),
                    "rows": [[String: Any]](), "approveLabel": "Approve"]
        }
        let event = held.event
        var columns: [[String: Any]] = [[
            "heading": "Incoming event", "note": "\(event.source.rawValue)/\(event.system) \(event.externalID) · \(event.occurredAt.rfc3339)",
            "hasReasons": false,
        ]]
        var names = Set(event.fields.keys)
        for candidate in request.candidates {
            columns.append([
                "heading": "Candidate", "link": "/console/records?q=\(candidate.goldenID)", "linkText": candidate.goldenID,
                "score": Formatting.score(candidate.score), "reasons": candidate.reasons, "hasReasons": !candidate.reasons.isEmpty,
                "note": "matched by \(candidate.tier)",
            ])
            if let record = candidates[candidate.goldenID] { names.formUnion(record.fields.keys) }
        }
        let rows: [[String: Any]] = Formatting.orderedFields(names).map { name in
            let incoming = event.fields[name]
            var cells: [[String: Any]] = [["value": Formatting.value(incoming), "differs": false]]
            for candidate in request.candidates {
                let record = candidates[candidate.goldenID]
                let value = record?.fields[name]
                var cell: [String: Any] = ["value": Formatting.value(value), "differs": incoming != nil && value != incoming]
                if let origin = Formatting.provenance(record?.provenance[name]) { cell["provenance"] = origin }
                cells.append(cell)
            }
            return ["field": name, "cells": cells]
        }
        let targets: [[String: Any]] = request.candidates.enumerated().map { index, candidate in
            ["goldenID": candidate.goldenID, "label": "score \(Formatting.score(candidate.score))", "first": index == 0]
        }
        return [
            "title": "Is \(Formatting.subject(event.fields)) one of these records?",
            "explanation": "Why: \(Formatting.reason(request.reason))",
            "columns": columns, "rows": rows, "targets": targets, "hasTargets": !targets.isEmpty,
            "approveLabel": "Approve: apply the event to the chosen record", "comparedTo": "the incoming event",
        ]
    }

    private static func field(_ request: ReviewRequest, record: GoldenRecord?) -> [String: Any] {
        guard let review = try? FieldReview(losslessJSON: request.payload) else {
            return ["title": "Field conflict", "explanation": request.reason, "columns": [[String: Any]](), "rows": [[String: Any]](),
                    "approveLabel": "Approve"]
        }
        let columns: [[String: Any]] = [
            ["heading": "Proposed value", "note": Formatting.provenance(review.proposedBy) ?? "", "hasReasons": false],
            ["heading": "Record now", "link": "/console/records?q=\(request.goldenID ?? "")", "linkText": request.goldenID ?? "",
             "note": "system of record: \(review.owner.rawValue)", "hasReasons": false],
        ]
        var rows: [[String: Any]] = [[
            "field": review.field,
            "cells": [
                ["value": Formatting.value(review.proposedValue), "differs": false, "provenance": Formatting.provenance(review.proposedBy) as Any],
                ["value": Formatting.value(review.currentValue), "differs": review.currentValue != review.proposedValue,
                 "provenance": Formatting.provenance(review.current) as Any],
            ],
        ]]
        if let record {
            for name in Formatting.orderedFields(Set(record.fields.keys)) where name != review.field {
                rows.append(["field": name, "cells": [
                    ["value": "", "differs": false],
                    ["value": Formatting.value(record.fields[name]), "differs": false, "provenance": Formatting.provenance(record.provenance[name]) as Any],
                ]])
            }
        }
        return [
            "title": "Change \(review.field) of \(record.map { Formatting.subject($0.fields) } ?? "this record")?",
            "explanation": "Why: \(Formatting.reason(request.reason))",
            "columns": columns, "rows": rows, "hasTargets": false,
            "approveLabel": "Approve: use the proposed value", "comparedTo": "the proposed value",
        ]
    }
}
