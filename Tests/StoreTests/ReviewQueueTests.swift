import CRMModel
import Dedup
import Foundation
import Testing
@testable import Store

@Suite("Store: the console's review queue")
struct ReviewQueueTests {
    @Test("open requests only, best score first then oldest; kind and source filters; pages that say whether more follow")
    func queue() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        func request(_ id: String, kind: ReviewKind, score: Double?, source: String, at minute: Int64) -> ReviewRequest {
            let payload = kind == .identity
                ? #"{"event":{"source":"\#(source)"}}"#
                : #"{"proposed_by":{"source":"\#(source)"}}"#
            return ReviewRequest(id: id, goldenID: nil, kind: kind, reason: "r", eventID: "e-\(id)", payload: Data(payload.utf8),
                                 candidates: score.map { [ScoredCandidate(goldenID: "c-1", score: $0, tier: .nameCompany, reasons: [])] } ?? [],
                                 createdAt: Timestamp(epochMilliseconds: minute * 60_000))
        }
        try store.write { tx in
            for item in [request("a", kind: .identity, score: 0.7, source: "map", at: 1), request("b", kind: .identity, score: 0.9, source: "crm", at: 2),
                         request("c", kind: .field, score: nil, source: "billing", at: 3), request("d", kind: .identity, score: 0.9, source: "map", at: 4),
                         request("e", kind: .field, score: nil, source: "billing", at: 0)] {
                try tx.openReviewRequest(item)
            }
            try tx.resolveReviewRequest("d", status: .rejected, at: Timestamp(epochMilliseconds: 0))
        }
        #expect(try store.openReviewCount() == 4)
        let all = try store.reviewQueue(kind: nil, source: nil, page: 0, pageSize: 10)
        #expect(all.requests.map(\.id) == ["b", "a", "e", "c"])
        #expect(!all.hasMore)
        #expect(try store.reviewQueue(kind: .field, source: nil, page: 0, pageSize: 10).requests.map(\.id) == ["e", "c"])
        #expect(try store.reviewQueue(kind: nil, source: "map", page: 0, pageSize: 10).requests.map(\.id) == ["a"])
        #expect(try store.reviewQueue(kind: nil, source: "billing", page: 0, pageSize: 10).requests.map(\.id) == ["e", "c"])
        let first = try store.reviewQueue(kind: nil, source: nil, page: 0, pageSize: 3)
        let second = try store.reviewQueue(kind: nil, source: nil, page: 1, pageSize: 3)
        #expect(first.requests.map(\.id) == ["b", "a", "e"] && first.hasMore)
        #expect(second.requests.map(\.id) == ["c"] && !second.hasMore)
    }
}
