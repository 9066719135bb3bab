@testable import Console
import CRMModel
import DeadLetters
import Foundation
import GRDB
import Kafka
import Pipeline
import Store
import Testing

@Suite("Console pages through the real routes: health windows, lag, dead letters, kept-out values, absorbed records, sign-in limits, query plans")
struct ConsolePagesTests {
    @Test("the write stage puts each batch's events into hour buckets: the same counts as the batch summary /metrics adds")
    func hourBucketsMatchTheSummary() throws {
        let fixture = try ConsoleFixture()
        let result = try fixture.send("crm.events.v1", [
            canonical("a1", source: "crm", system: "salesforce", at: "2026-11-01T09:00:00Z", externalID: "003A", fields: #"{"email":"ann@acme.com"}"#),
            canonical("a1", source: "crm", system: "salesforce", at: "2026-11-01T09:00:00Z", externalID: "003A", fields: #"{"email":"ann@acme.com"}"#),
            "{not json",
        ])
        let hour = HourBucket.start(of: fixture.now.value)
        let stored = try fixture.store.read { try $0.eventCounts(sinceHour: hour) }
        let expected = Dictionary(uniqueKeysWithValues: result.summary.events.map { ("\($0.key.source)/\($0.key.system)/\($0.key.outcome)", Int64($0.value)) })
        let actual = Dictionary(uniqueKeysWithValues: stored.map { ("\($0.key.source)/\($0.key.system)/\($0.key.outcome)", $0.count) })
        #expect(actual == expected)
        #expect(actual["crm/salesforce/applied"] == 1 && actual["crm/salesforce/duplicate"] == 1 && actual["crm/unknown/dead_lettered"] == 1)
        // An hour later the same events are in the day's window but not the hour's.
        #expect(try fixture.store.read { try $0.eventCounts(sinceHour: hour + HourBucket.milliseconds) }.isEmpty)
    }

    @Test("health: last hour and last day by outcome per source and system, the 1% line, lag per partition, DLQ classes linked")
    func healthPage() async throws {
        let lag = [PartitionLag(topic: "crm.events.v1", partition: 1, lag: 42), PartitionLag(topic: "crm.events.v1", partition: 0, lag: 0)]
        let fixture = try ConsoleFixture(now: "2026-11-20T12:30:00Z", lag: lag)
        let now = fixture.now.value
        func at(hoursAgo: Int64) -> Timestamp { Timestamp(epochMilliseconds: now.epochMilliseconds - hoursAgo * 3_600_000) }
        try fixture.store.write { tx in
            try tx.countEvents([EventCountKey(source: "map", system: "hubspot", outcome: "applied"): 150,
                                EventCountKey(source: "map", system: "hubspot", outcome: "dead_lettered"): 3], at: now)
            try tx.countEvents([EventCountKey(source: "map", system: "hubspot", outcome: "applied"): 1_000], at: at(hoursAgo: 5))
            try tx.countEvents([EventCountKey(source: "map", system: "hubspot", outcome: "applied"): 7_777], at: at(hoursAgo: 30))
            try tx.countDeadLetters(["malformed-json": 3], at: now)
        }
        let cookies = try await fixture.signIn()
        let page = try await fixture.pages.get("/console/health", cookies: cookies)
        #expect(page.status == 200)
        let windows = try #require(section(page.body, id: "windows"))
        #expect(windows.contains("<td class=\"field\">map</td><td>hubspot</td>"))
        // Last hour: 150 applied, 3 dead-lettered = 1.96% (over the line, with over 100 events: bad).
        #expect(windows.contains("<td>150</td><td>0</td><td>0</td><td>3</td><td><span class=\"badge bad\">1.96%</span>"))
        // Last day adds the 1,000 of five hours ago, not the 7,777 of thirty hours ago.
        #expect(windows.contains("<td>1150</td><td>0</td><td>0</td><td>3</td><td><span class=\"badge ok\">0.26%</span>"))
        #expect(!windows.contains("7777") && !windows.contains("8927"))
        let lagTable = try #require(section(page.body, id: "lag"))
        #expect(lagTable.contains("<td class=\"mono\">crm.events.v1</td><td>1</td><td><span class=\"badge warn\">42</span>"))
        #expect(lagTable.range(of: "<td>0</td>")!.lowerBound < lagTable.range(of: "<td>1</td>")!.lowerBound, "partitions in order")
        #expect(page.body.contains("<b id=\"lag-total\">42</b>"))
        #expect(page.body.contains("href=\"/console/dead-letters?class=malformed-json\""))
    }

    @Test("dead letters: a class's letters newest first a page at a time; a letter's reason, position, headers and bytes, escaped")
    func deadLetterPages() async throws {
        let letters = (0..<30).map { index in
            FakeDeadLetters.letter(offset: Int64(index), failedAt: Int64(index) * 1_000, value: index == 29 ? "<script>alert(1)</script>" : "{\"n\":\(index)}")
        }
        let fixture = try ConsoleFixture(deadLetters: FakeDeadLetters(entries: letters))
        let cookies = try await fixture.signIn()
        let first = try await fixture.pages.get("/console/dead-letters?class=malformed-json", cookies: cookies)
        #expect(first.status == 200)
        #expect(first.body.contains("/console/dead-letters/0/29") && !first.body.contains("/console/dead-letters/0/4\""), "newest 25 first")
        #expect(first.body.contains("href=\"/console/dead-letters?class=malformed-json&amp;page=1\""))
        let second = try await fixture.pages.get("/console/dead-letters?class=malformed-json&page=1", cookies: cookies)
        #expect(second.body.contains("/console/dead-letters/0/4\"") && !second.body.contains("/console/dead-letters/0/5\""))
        let other = try await fixture.pages.get("/console/dead-letters?class=schema", cookies: cookies)
        #expect(!other.body.contains("/console/dead-letters/0/"))

        let shown = try await fixture.pages.get("/console/dead-letters/0/29", cookies: cookies)
        #expect(shown.status == 200)
        #expect(shown.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !shown.body.contains("<script>alert"))
        #expect(shown.body.contains("not JSON at byte 0") && shown.body.contains("crm.events.v1[2]@129"))
        #expect(shown.body.contains("crmsync.error.class") && shown.body.contains("x-trace"))
        #expect(try await fixture.pages.get("/console/dead-letters/0/99", cookies: cookies).status == 404)
        #expect(try await fixture.pages.get("/console/dead-letters/0/29").status == 302, "signed-in users only")
    }

    @Test("record: values kept out per field and why; merges link to the absorbed record as it was")
    func recordPage() async throws {
        let fixture = try ConsoleFixture()
        try fixture.send("crm.events.v1", [canonical("a1", source: "crm", system: "salesforce", at: "2026-11-01T09:00:00Z", externalID: "003A",
                                                     fields: #"{"email":"ann@acme.com","job_title":"CTO","lead_score":99}"#)])
        try fixture.send("map.events.v1", [canonical("b1", source: "map", system: "hubspot", at: "2026-11-01T09:05:00Z", externalID: "501",
                                                     fields: #"{"email":"ann.lee@acme.com","lead_score":40,"job_title":"Chief <b>Tech</b>"}"#)])
        try fixture.send("crm.events.v1", [canonical("a2", source: "crm", system: "salesforce", at: "2026-11-01T10:00:00Z", externalID: "003A",
                                                     fields: #"{"email":"Ann.Lee@acme.com"}"#)])
        let cookies = try await fixture.signIn()
        let page = try await fixture.pages.get("/console/records?q=salesforce:003A", cookies: cookies)
        #expect(page.status == 200)
        let keptOut = try #require(section(page.body, id: "kept-out"))
        #expect(keptOut.contains("<td class=\"field\">lead_score</td><td>99.0</td><td>crm/salesforce") || keptOut.contains("<td class=\"field\">lead_score</td><td>99</td><td>crm/salesforce"))
        #expect(keptOut.contains("crm/salesforce does not own lead_score (rule owner)"))
        let survivor = try #require(page.body.firstMatch(of: /id="record-id">([^<]+)</).map { String($0.1) })
        let absorbed = try #require(try fixture.store.read { try $0.merges(involving: survivor) }.first?.absorbedID)
        #expect(page.body.contains("href=\"/console/records?q=\(absorbed)&amp;absorbed=1\""))
        let old = try await fixture.pages.get("/console/records?q=\(absorbed)&absorbed=1", cookies: cookies)
        #expect(old.body.contains("id=\"absorbed-note\"") && old.body.contains("id=\"record-id\">\(absorbed)<"))
        #expect(old.body.contains("ann.lee@acme.com"), "the absorbed record's own email, as it was")
        let followed = try await fixture.pages.get("/console/records?q=\(absorbed)", cookies: cookies)
        #expect(followed.body.contains("id=\"record-id\">\(survivor)<"), "without absorbed=1 the search follows the merge")
    }

    @Test("sign-in: 5 failures per user name or per address within 5 minutes, then 429 with a clear message")
    func signInLimit() async throws {
        let fixture = try ConsoleFixture()
        for _ in 0..<5 { #expect(try await fixture.pages.signIn("rita", "wrong", from: "10.0.0.1").reply.status == 401) }
        let blocked = try await fixture.pages.signIn("rita", ConsoleFixture.password, from: "10.0.0.2")
        #expect(blocked.reply.status == 429 && blocked.cookies == nil, "the right password does not get past the name's limit")
        #expect(blocked.reply.body.contains("Too many failed sign-ins"))
        let retryAfter = try #require(blocked.reply.headers["retry-after"].flatMap { Int($0) })
        #expect(retryAfter > 0 && retryAfter <= 300)

        // Per address: many names from one address.
        let byAddress = try ConsoleFixture()
        for attempt in 0..<5 { #expect(try await byAddress.pages.signIn("guess\(attempt)", "x", from: "10.0.0.9").reply.status == 401) }
        #expect(try await byAddress.pages.signIn("rita", ConsoleFixture.password, from: "10.0.0.9").reply.status == 429)
        #expect(try await byAddress.pages.signIn("rita", ConsoleFixture.password, from: "10.0.0.10").cookies != nil, "other addresses are not affected")
    }

    @Test("the throttle forgets failures older than its window; a success clears the name")
    func throttleWindow() async {
        let throttle = SignInThrottle(policy: .init(limit: 2, window: 60))
        let start = Date(timeIntervalSince1970: 1_000_000)
        await throttle.fail([.user("a"), .address("1.1.1.1")], now: start)
        #expect(await throttle.retryAfter([.user("a")], now: start) == nil)
        await throttle.fail([.user("a")], now: start.addingTimeInterval(10))
        #expect(await throttle.retryAfter([.user("a")], now: start.addingTimeInterval(11)) == 49)
        #expect(await throttle.retryAfter([.address("1.1.1.1")], now: start.addingTimeInterval(11)) == nil)
        #expect(await throttle.retryAfter([.user("a")], now: start.addingTimeInterval(61)) == nil, "the first failure left the window")
        await throttle.fail([.user("a")], now: start.addingTimeInterval(62))
        await throttle.succeed(user: "a")
        #expect(await throttle.retryAfter([.user("a")], now: start.addingTimeInterval(63)) == nil)
    }

    @Test("every query the pages run uses an index on the big tables (EXPLAIN QUERY PLAN of each statement)")
    func pageQueriesAreIndexed() async throws {
        let fixture = try ConsoleFixture()
        try fixture.send("crm.events.v1", [canonical("a1", source: "crm", system: "salesforce", at: "2026-11-01T09:00:00Z", externalID: "003A",
                                                     fields: #"{"email":"ana.ruiz@acme.io","first_name":"Ana","last_name":"Ruiz","company_domain":"acme.io"}"#)])
        try fixture.send("map.events.v1", [canonical("m1", source: "map", system: "hubspot", at: "2026-11-01T09:05:00Z", externalID: "h-9",
                                                     fields: #"{"first_name":"Ana","last_name":"Ruiz","company_domain":"acme.io"}"#)])
        let cookies = try await fixture.signIn()
        let review = try fixture.store.reviewQueue(kind: nil, source: nil, page: 0, pageSize: 5).requests.first?.id
        _ = fixture.takeStatements()
        var paths = ["/console/reviews", "/console/reviews?page=3&kind=identity&source=map", "/console/records?q=ana.ruiz%40acme.io",
                     "/console/records?q=salesforce%3A003A", "/console/records?q=nobody%40nowhere.example", "/console/health"]
        if let review { paths.append("/console/reviews/\(review)") }
        #expect(review != nil, "the namesake raised an identity review")
        for path in paths { #expect(try await fixture.pages.get(path, cookies: cookies).status == 200, "\(path)") }
        let statements = Set(fixture.takeStatements().filter { $0.uppercased().hasPrefix("SELECT") })
        #expect(statements.count >= 8)
        // Tables that grow with the records or the traffic; the counter tables hold a row per
        // source/class/kind and are read whole on purpose.
        let big = ["records", "crosswalk", "identifiers", "identifier_counts", "audit_log", "review_requests", "events", "merges", "outbox",
                   "event_counts_hourly", "alarms"]
        for sql in statements {
            let plan = try fixture.store.readRaw { db -> [String] in
                // Unbound parameters are NULL: the plan is chosen at prepare time, not from values.
                let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + sql)
                statement.setUncheckedArguments(StatementArguments())
                return try Row.fetchAll(statement).map { $0["detail"] as String }
            }
            for step in plan {
                // "ORDER BY id DESC LIMIT n" walks the rowid backwards and stops after n rows.
                let newestByRowid = sql.contains("ORDER BY id DESC LIMIT")
                let scanned = big.first { step.hasPrefix("SCAN \($0)") && !step.contains("USING") && !newestByRowid }
                #expect(scanned == nil, "\(sql)\n→ \(step)")
            }
        }
    }
}

/// The HTML of the element with `id="…"` up to its closing table (enough for these pages).
func section(_ html: String, id: String) -> String? {
    guard let start = html.range(of: "id=\"\(id)\"") else { return nil }
    let rest = html[start.lowerBound...]
    return rest.range(of: "</table>").map { String(rest[..<$0.upperBound]) }
}

/// A DLQ in memory (the Kafka reader is tested end to end).
struct FakeDeadLetters: DeadLetterBrowser {
    var entries: [DeadLetterEntry]

    static func letter(offset: Int64, failedAt: Int64, value: String) -> DeadLetterEntry {
        let original = ConsumerMessage(topic: "crm.events.v1", partition: 2, offset: 100 + offset, key: Array("k".utf8), value: Array(value.utf8),
                                       headers: [KafkaHeader(name: "x-trace", string: "t-\(offset)")], timestampMilliseconds: 0)
        let letter = DeadLetter(failed: original, error: EventError(.malformedJSON, "not JSON at byte 0"), failedAt: Timestamp(epochMilliseconds: failedAt))
        return DeadLetterEntry(position: LetterPosition(partition: 0, offset: offset), letter: letter, source: "crm")
    }

    func letters(errorClass: String?, page: Int, pageSize: Int) async throws -> DeadLetterPage {
        let matching = entries.filter { errorClass == nil || $0.letter.error.errorClass.rawValue == errorClass }
            .sorted { $0.letter.failedAt > $1.letter.failedAt }
        let start = min(matching.count, page * pageSize), end = min(matching.count, start + pageSize)
        return DeadLetterPage(entries: Array(matching[start..<end]), hasMore: end < matching.count, scanned: entries.count, truncated: false)
    }

    func letter(at position: LetterPosition) async throws -> (entry: DeadLetterEntry, headers: [KafkaHeader])? {
        guard let entry = entries.first(where: { $0.position == position }) else { return nil }
        return (entry, entry.letter.record(topic: "dlq.events.v1").headers)
    }
}
