import Foundation
import Kafka
import Logging
import Testing

/// The web console through the binary: `crmsync run --http-addr 127.0.0.1:0` on the mock
/// cluster, driven over HTTP like a browser (cookies, forms, redirects), then checked with the
/// CLI. `scripts/test` also drives the same pages in headless Chromium (scripts/console-browser-test.py).
@Suite("Web console: sign-in, roles, CSRF, escaping, review decisions on the CLI's code path", .serialized, .timeLimit(.minutes(4)))
struct ConsoleEndToEndTests {
    @Test("reviewer approves and rejects like `crmsync review`; a viewer is refused; no CSRF token, 403; <script> is text")
    func consoleEndToEnd() async throws {
        let console = try await ConsoleUnderTest()
        let client = ConsoleClient(base: console.base)

        // Nothing without signing in; the probes stay open.
        let anonymous = try await client.get("/console/reviews")
        #expect(anonymous.status == 302 && anonymous.location == "/console/signin")
        #expect(try await client.get("/healthz").status == 200)

        // Sign-in: a form without its token is refused, a wrong password is told apart from nothing.
        _ = try await client.get("/console/signin")
        #expect(try await client.post("/console/signin", form: ["name": "rita", "password": "rita-pass-1"]).status == 403)
        #expect(try await client.signIn("rita", "wrong").status == 401)
        let signedIn = try await client.signIn("rita", "rita-pass-1")
        #expect(signedIn.status == 303 && signedIn.location == "/console/reviews")
        let cookie = try #require(signedIn.setCookie)
        #expect(cookie.contains("crmsync_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        #expect(!cookie.contains("Secure"), "Secure only when console.secure_cookie is set (TLS)")

        // The queue lists the three requests; the deal name's <script> is text, not markup.
        let queue = try await client.get("/console/reviews")
        #expect(queue.status == 200)
        let open = try await console.reviews(status: "open")
        #expect(open.count == 3)
        for id in open.keys { #expect(queue.body.contains("/console/reviews/\(id)")) }
        let scripted = try #require(open.first { $0.value == "deal-script" }?.key)
        let plain = try #require(open.first { $0.value == "deal-plain" }?.key)
        let third = try #require(open.first { $0.value == "deal-third" }?.key)
        let page = try await client.get("/console/reviews/\(scripted)")
        #expect(page.status == 200)
        #expect(page.body.contains("Renewal &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.body.contains("<script>alert(1)"))
        let csrf = try #require(ConsoleClient.csrf(in: page.body))

        // Filters: the deal conflicts are field reviews raised by billing.
        let fieldOnly = try await client.get("/console/reviews?kind=field&source=billing")
        for id in open.keys { #expect(fieldOnly.body.contains("/console/reviews/\(id)")) }
        let identityOnly = try await client.get("/console/reviews?kind=identity")
        let crmOnly = try await client.get("/console/reviews?source=crm")
        for id in open.keys { #expect(!identityOnly.body.contains("/console/reviews/\(id)") && !crmOnly.body.contains("/console/reviews/\(id)")) }

        // A decision without the form's token changes nothing.
        let forged = try await client.post("/console/reviews/\(scripted)/decide", form: ["decision": "approve"])
        #expect(forged.status == 403)
        #expect(try await console.reviews(status: "open").count == 3)

        // Approve one, reject another: what `crmsync review approve|reject` would have done.
        let approved = try await client.post("/console/reviews/\(scripted)/decide", form: ["csrf": csrf, "decision": "approve", "comment": "billing is right"])
        #expect(approved.status == 303 && approved.location?.contains("status=approved") == true)
        let rejected = try await client.post("/console/reviews/\(plain)/decide", form: ["csrf": csrf, "decision": "reject"])
        #expect(rejected.status == 303)
        #expect(try await console.reviews(status: "approved").keys.sorted() == [scripted])
        #expect(try await console.reviews(status: "rejected").keys.sorted() == [plain])
        #expect(try await console.amount("salesforce:006S") == 48000, "approval wrote the held value")
        #expect(try await console.amount("salesforce:006P") == 1000, "rejection kept the record's value")
        let trail = try await console.audit(of: "salesforce:006S")
        #expect(trail.last?["operation"] as? String == "review_resolved")
        #expect(trail.last?["actor"] as? String == "rita")
        let again = try await client.post("/console/reviews/\(scripted)/decide", form: ["csrf": csrf, "decision": "approve"])
        #expect(again.status == 409, "a decided request stays decided")

        // Record and health pages read the store.
        let record = try await client.get("/console/records?q=salesforce:006S")
        #expect(record.status == 200 && record.body.contains("hash chain verified") && record.body.contains("review resolved"))
        let ana = try await client.get("/console/records?q=ana.ruiz%40acme.io")
        #expect(ana.body.contains("id=\"kept-out\"") && ana.body.contains("map/hubspot does not own job_title (rule owner)"))
        let health = try await client.get("/console/health")
        #expect(health.status == 200 && health.body.contains("billing"))
        // Hour buckets by source and system, the consumer's lag per partition (the processor's,
        // as /metrics exports it), and the poison message's class linked to its letters.
        #expect(health.body.contains("<td class=\"field\">billing</td><td>salesforce</td>"))
        #expect(health.body.contains("id=\"lag\"") && health.body.contains("<td class=\"mono\">crm.events.v1</td>"))
        #expect(health.body.contains("href=\"/console/dead-letters?class=malformed-json\""))
        // The letter itself is read off the DLQ once the relay has published it.
        var letters = try await client.get("/console/dead-letters?class=malformed-json")
        for _ in 0..<50 where !letters.body.contains("/console/dead-letters/") {
            try await Task.sleep(for: .milliseconds(200))
            letters = try await client.get("/console/dead-letters?class=malformed-json")
        }
        let letterLink = try #require(letters.body.firstMatch(of: /href="(\/console\/dead-letters\/\d+\/\d+)"/).map { String($0.1) })
        let letter = try await client.get(letterLink)
        #expect(letter.status == 200 && letter.body.contains("{not json &lt;b&gt;") && letter.body.contains("crmsync.error.class"))
        #expect(letter.body.contains("crm.events.v1["), "the original topic, partition and offset")

        // A viewer sees the request but cannot decide it.
        let viewer = ConsoleClient(base: console.base)
        #expect(try await viewer.signIn("vic", "vic-pass-1").status == 303)
        let viewerPage = try await viewer.get("/console/reviews/\(third)")
        #expect(viewerPage.body.contains("cannot") || viewerPage.body.contains("can look"))
        let viewerCSRF = try #require(ConsoleClient.csrf(in: viewerPage.body))
        #expect(try await viewer.post("/console/reviews/\(third)/decide", form: ["csrf": viewerCSRF, "decision": "approve"]).status == 403)
        #expect(try await console.reviews(status: "open").keys.sorted() == [third])

        // Signing out ends the session on the server, not only in the browser.
        let stolen = client.cookies
        #expect(try await client.post("/console/signout", form: ["csrf": csrf]).status == 303)
        let replay = ConsoleClient(base: console.base, cookies: stolen)
        #expect(try await replay.get("/console/reviews").status == 302)

        try await console.runBrowserTest(third: third)

        // Failed sign-ins are limited per address too (the real server's peer address): the
        // wrong password above was one; four more under another name, then even vic is refused.
        let guesser = ConsoleClient(base: console.base)
        for _ in 0..<4 { #expect(try await guesser.signIn("mallory", "guess").status == 401) }
        let limited = try await guesser.signIn("vic", "vic-pass-1")
        #expect(limited.status == 429 && limited.body.contains("Too many failed sign-ins"))

        // review.requests.v1 announces each decision with its reviewer and comment, as the CLI's would
        // (a graceful stop drains the outbox).
        let announced = try await console.stopAndReadReviewTopic()
        let resolved = announced.filter { ($0["kind"] as? String)?.hasSuffix(".resolved") == true }
        let approvedDoc = try #require(resolved.first { $0["review_id"] as? String == scripted })
        #expect(approvedDoc["status"] as? String == "approved" && approvedDoc["resolved_by"] as? String == "rita")
        #expect(approvedDoc["note"] as? String == "billing is right")
        let rejectedDoc = try #require(resolved.first { $0["review_id"] as? String == plain })
        #expect(rejectedDoc["status"] as? String == "rejected" && rejectedDoc["resolved_by"] as? String == "rita" && rejectedDoc["note"] == nil)
        await console.stop()
    }
}
