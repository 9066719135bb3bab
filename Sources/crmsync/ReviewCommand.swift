import ArgumentParser
import CRMModel
import CrmsyncConfig
import Foundation
import Logging
import Pipeline
import Store

/// `crmsync review list|approve ID|reject ID`
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "List and resolve review requests (conflicting critical fields, doubtful identity matches).",
        discussion: """
        Approving writes through the normal write path (audited as review_resolved); the outputs
        are published by `crmsync run` (now, if it is running; else when it next starts).
        """,
        subcommands: [List.self, Approve.self, Reject.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List review requests (open ones by default).")

        @OptionGroup var common: CommonOptions

        @Option(help: "open, approved or rejected.")
        var status: String = "open"

        @Option(help: "At most this many.")
        var limit: Int = 100

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            try await reportingFailures {
                guard let wanted = ReviewStatus(rawValue: status) else { throw CLIFailure.usage("--status must be open, approved or rejected") }
                let configuration = try common.load(quietByDefault: true)
                let store = try openStore(configuration)
                let requests = try store.read { try $0.reviewRequests(status: wanted, limit: limit) }
                if json {
                    try printJSON(requests.map(ReviewJSON.init))
                    return
                }
                if requests.isEmpty { print("no \(status) review requests") }
                for request in requests {
                    print("\(request.id)  \(request.kind.rawValue)  \(request.reason)  record \(request.goldenID ?? "–")  event \(request.eventID)  \(request.createdAt.rfc3339)")
                    for candidate in request.candidates {
                        print("    candidate \(candidate.goldenID)  score \(String(format: "%.2f", candidate.score))  \(candidate.reasons.joined(separator: "; "))")
                    }
                }
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a review request: apply the held value or event.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "The review request id (rv-…).")
        var id: String

        @Option(help: "Identity reviews: the record to apply the held event to (default: the best candidate).")
        var into: String?

        @Option(help: "Who decided (recorded in the audit event; default $USER).")
        var actor: String?

        @Option(help: "A note that goes with the decision on the review topic.")
        var comment: String?

        func run() async throws {
            try await resolve(common: common, id: id, decision: .approve(into: into), actor: actor, comment: comment)
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a review request: the record keeps its value.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "The review request id (rv-…).")
        var id: String

        @Option(help: "Who decided (default $USER).")
        var actor: String?

        @Option(help: "A note that goes with the decision on the review topic.")
        var comment: String?

        func run() async throws {
            try await resolve(common: common, id: id, decision: .reject, actor: actor, comment: comment)
        }
    }
}

private func resolve(common: CommonOptions, id: String, decision: ReviewDecision, actor: String?, comment: String?) async throws {
    try await reportingFailures {
        let configuration = try common.load(quietByDefault: true)
        let who = actor ?? ProcessInfo.processInfo.environment["USER"] ?? "operator"
        let writer = try Stages.writeStageOnExistingStore(configuration, label: "crmsync.review")
        do {
            let result = try writer.resolveReview(id: id, decision: decision, actor: who, comment: comment)
            print("\(result.reviewID): \(result.status.rawValue)\(result.goldenID.map { ", record \($0) updated" } ?? "")")
        } catch let error as ReviewResolutionError {
            throw CLIFailure.other(error.description)
        }
    }
}

private struct ReviewJSON: Encodable {
    var id: String
    var kind: String
    var status: String
    var reason: String
    var goldenID: String?
    var eventID: String
    var createdAt: String
    var candidates: [String]

    init(_ request: ReviewRequest) {
        id = request.id
        kind = request.kind.rawValue
        status = request.status.rawValue
        reason = request.reason
        goldenID = request.goldenID
        eventID = request.eventID
        createdAt = request.createdAt.rfc3339
        candidates = request.candidates.map(\.goldenID)
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, status, reason, candidates
        case goldenID = "golden_id"
        case eventID = "event_id"
        case createdAt = "created_at"
    }
}
