import Bench
import CRMModel
import Console
import CrmsyncConfig
import Foundation
import GRDB
import Logging
import Pipeline
import Store

extension ConsoleBenchCommand {
    /// Renders each page `samples` times through the real routes, signed in as a bench reviewer.
    func measure(store: SQLiteStore, configuration: CrmsyncConfiguration, logger: Logger, records: Int, fillSeconds: Double) async throws -> ConsoleBenchReport {
        let password = "console-bench-\(getpid())"
        var settings = ConsoleSettings()
        settings.users["bench"] = ConsoleSettings.User(name: "bench", role: .reviewer, passwordHash: try PasswordHash.make(password: password))
        let routes = try ConsoleRoutes(settings: settings, store: store, auditTopic: configuration.topic(.audit), dlqTopic: configuration.topic(.dlq),
                                       logger: logger, now: { Clock.system.now() }) { _, _, _, _ in
            throw CLIFailure.other("the console bench decides no review request")
        }
        let pages = ConsolePages(routes: routes, logger: logger)
        guard let cookies = try await pages.signIn("bench", password).cookies else {
            throw CLIFailure.other("console bench: the bench user could not sign in")
        }

        // Targets spread over the store: copies made last sit at the end of every index.
        let targets = try store.readRaw { db -> (ids: [String], emails: [String], external: [String], review: String?) in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM records WHERE entity = 'contact' AND merged_into IS NULL ORDER BY random() LIMIT 50")
            var emails: [String] = [], external: [String] = []
            for id in ids {
                if let email = try String.fetchOne(db, sql: "SELECT value FROM identifiers WHERE golden_id = ? AND kind = 'email' LIMIT 1", arguments: [id]) {
                    emails.append(email)
                }
                if let row = try Row.fetchOne(db, sql: "SELECT system, external_id FROM crosswalk WHERE golden_id = ? LIMIT 1", arguments: [id]) {
                    external.append("\(row["system"] as String):\(row["external_id"] as String)")
                }
            }
            let review = try String.fetchOne(db, sql: "SELECT id FROM review_requests WHERE status = 'open' ORDER BY random() LIMIT 1")
            return (ids, emails, external, review)
        }
        let openReviews = try store.openReviewCount()
        // A page deep in the queue (OFFSET pagination: the index walk grows with the page).
        let deepPage = max(0, min(40, openReviews / 25 - 1))
        func cycle(_ values: [String]) -> (Int) -> String { { values.isEmpty ? "" : values[$0 % values.count] } }
        let id = cycle(targets.ids), email = cycle(targets.emails), external = cycle(targets.external)
        // Each page with a marker its render must contain (a record page that found nothing would be fast and wrong).
        var plan: [(name: String, marker: String, path: (Int) -> String)] = [
            ("review queue", "id=\"queue\"", { _ in "/console/reviews" }),
            ("review queue, page \(deepPage + 1)", "id=\"queue\"", { _ in "/console/reviews?page=\(deepPage)" }),
            ("review queue, kind filter", "id=\"queue\"", { _ in "/console/reviews?kind=identity" }),
            ("record by email", "id=\"record-id\"", { "/console/records?q=\(Self.query(email($0)))" }),
            ("record by golden id", "id=\"record-id\"", { "/console/records?q=\(Self.query(id($0)))" }),
            ("record by external id", "id=\"record-id\"", { "/console/records?q=\(Self.query(external($0)))" }),
            ("search, no match", "id=\"notfound\"", { "/console/records?q=nobody\($0)%40nowhere.example" }),
            ("health", "id=\"windows\"", { _ in "/console/health" }),
        ]
        if let review = targets.review { plan.insert(("review request", "id=\"comparison\"", { _ in "/console/reviews/\(review)" }), at: 3) }

        var results: [ConsoleBenchReport.Page] = []
        for (name, marker, path) in plan {
            _ = try await pages.get(path(0), cookies: cookies)  // warm the statement caches
            var samples = LatencySamples()
            var status = 0
            for sample in 0..<self.samples {
                let started = DispatchTime.now().uptimeNanoseconds
                let reply = try await pages.get(path(sample), cookies: cookies)
                samples.add(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
                status = max(status, reply.status)
                guard reply.body.contains(marker) else {
                    throw CLIFailure.other("console bench: \(name) (\(path(sample))) rendered without \(marker): status \(reply.status)")
                }
            }
            results.append(.init(name: name, path: path(0), status: status, p50: samples.percentile(50) ?? 0,
                                 p99: samples.percentile(99) ?? 0, max: samples.percentile(100) ?? 0))
        }
        return ConsoleBenchReport(
            records: records, openReviews: openReviews, samples: samples, fillSeconds: fillSeconds,
            synthetic: "\(ConsoleBenchFill.templates) records through the write stage, the rest SQL copies of their rows in the real schema",
            pages: results)
    }

    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
