import Foundation
import Kafka
import Logging
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A browser-like HTTP client for the console: keeps cookies by hand and never follows
/// redirects, so a test sees every 302/303 and every Set-Cookie.
final class ConsoleClient: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    // @unchecked: `cookies` is only touched by the test's own task, one request at a time.
    let base: String
    private(set) var cookies: [String: String] = [:]
    private lazy var session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        var location: String? { headers["location"] }
        /// The `name=value; …` line of the Set-Cookie header that sets `name`, if any.
        var setCookie: String? { headers["set-cookie"] }
    }

    init(base: String, cookies: [String: String] = [:]) {
        self.base = base
        self.cookies = cookies
    }

    func get(_ path: String) async throws -> Reply {
        try await send(path, method: "GET", form: nil)
    }

    func post(_ path: String, form: [String: String]) async throws -> Reply {
        try await send(path, method: "POST", form: form)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    private func send(_ path: String, method: String, form: [String: String]?) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.httpShouldHandleCookies = false
        if !cookies.isEmpty {
            request.setValue(cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "), forHTTPHeaderField: "Cookie")
        }
        if let form {
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            request.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                .joined(separator: "&").utf8)
        }
        let (data, response): (Data, URLResponse?) = try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error { continuation.resume(throwing: error) } else {
                    continuation.resume(returning: (data ?? Data(), response))
                }
            }.resume()
        }
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http?.allHeaderFields ?? [:] {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        // Several Set-Cookie headers may be folded into one comma-separated value.
        if let setCookie = headers["set-cookie"] {
            for part in setCookie.components(separatedBy: ", ") {
                let pair = part.split(separator: ";").first.map(String.init) ?? ""
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<equals]), value = String(pair[pair.index(after: equals)...])
                if value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
            }
        }
        return Reply(status: http?.statusCode ?? 0, headers: headers, body: String(decoding: data, as: UTF8.self))
    }

    /// The value of the hidden `csrf` input of the page's first form.
    static func csrf(in page: String) -> String? {
        guard let range = page.range(of: #"name="csrf" value=""#) else { return nil }
        let rest = page[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// Signs in through the form; returns the reply to the POST.
    func signIn(_ name: String, _ password: String) async throws -> Reply {
        let page = try await get("/console/signin")
        return try await post("/console/signin", form: ["csrf": Self.csrf(in: page.body) ?? "", "name": name, "password": password])
    }
}

/// `printf PASSWORD | crmsync console hash-password`.
func consolePasswordHash(_ password: String) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: crmsyncBinary)
    process.arguments = ["console", "hash-password"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    let collector = PipeCollector(output)
    try process.run()
    input.fileHandleForWriting.write(Data((password + "\n").utf8))
    try input.fileHandleForWriting.close()
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            process.waitUntilExit()
            continuation.resume()
        }
    }
    return collector.text().trimmingCharacters(in: .whitespacesAndNewlines)
}

/// `crmsync run --http-addr 127.0.0.1:0` with two console users (rita: reviewer, vic: viewer)
/// on a dev broker, holding three deal-amount review requests (billing disagrees with the CRM).
final class ConsoleUnderTest: @unchecked Sendable {
    // @unchecked: set up in init, only read afterwards.
    let directory: URL
    let store: String
    let broker: DevBrokerProcess
    let processor: ProcessorProcess
    let base: String

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crmsync-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = directory.appendingPathComponent("console.sqlite").path
        broker = try await DevBrokerProcess()
        let config = try FailureSupport.writeConfig(in: directory)
        let users = """

        console:
          users:
            rita: { role: reviewer, password_hash: "\(try await consolePasswordHash("rita-pass-1"))" }
            vic: { role: viewer, password_hash: "\(try await consolePasswordHash("vic-pass-1"))" }
        """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: config))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(users.utf8))
        try handle.close()
        processor = try ProcessorProcess(arguments: ["run", "--brokers", broker.bootstrapServers, "--store", store, "--batch-size", "10",
                                                     "--log-level", "info", "--config", config, "--http-addr", "127.0.0.1:0"],
                                         directory: repositoryRoot)
        let line = try #require(await processor.waitForLine(containing: "http server listening on"), "crmsync run never listened")
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        base = "http://127.0.0.1:\(port)"

        // The CRM owns deal amounts: billing's differing amount is held for a person.
        let deals = [("006S", "deal-script", "Renewal <script>alert(1)</script>", 50000, 48000),
                     ("006P", "deal-plain", "Expansion", 1000, 900), ("006T", "deal-third", "Upsell", 7000, 6500)]
        try await publish(deals.map { id, _, name, amount, _ in
            ("crm.events.v1", id, canonicalEvent("crm-\(id)", source: "crm", system: "salesforce", type: "deal.upserted", at: "2026-11-02T09:40:00Z",
                                                 externalID: id, fields: #"{"name":"\#(name)","amount":\#(amount),"currency":"USD"}"#))
        })
        try await waitUntilProcessed(3)
        try await publish(deals.map { id, event, _, _, amount in
            ("billing.events.v1", id, canonicalEvent(event, source: "billing", system: "salesforce", type: "deal.upserted", at: "2026-11-02T09:45:00Z",
                                                     externalID: id, fields: #"{"amount":\#(amount)}"#))
        })
        try await waitUntilProcessed(6)
        // A person known to the CRM, then a marketing contact with the same name and company
        // but no email: an identity question for the screenshots (the queue's order and the
        // review threshold decide whether it is queued; the assertions do not depend on it).
        try await publish([("crm.events.v1", "003A", canonicalEvent("crm-003A", source: "crm", system: "salesforce", type: "contact.upserted",
            at: "2026-11-02T09:40:00Z", externalID: "003A",
            fields: #"{"email":"ana.ruiz@acme.io","first_name":"Ana","last_name":"Ruiz","company_domain":"acme.io","job_title":"CFO"}"#))])
        try await waitUntilProcessed(7)
        try await publish([("map.events.v1", "h-9", canonicalEvent("map-h-9", source: "map", system: "hubspot", type: "contact.upserted",
            at: "2026-11-02T09:50:00Z", externalID: "h-9",
            fields: #"{"first_name":"Ana","last_name":"Ruiz","company_domain":"acme.io","job_title":"Chief Financial Officer"}"#))])
        try await waitUntilProcessed(8)
        // Marketing offers Ana's title too (matched by email): the CRM owns job_title, so the
        // record page lists it as a value kept out.
        try await publish([("map.events.v1", "h-10", canonicalEvent("map-h-10", source: "map", system: "hubspot", type: "contact.upserted",
            at: "2026-11-02T09:55:00Z", externalID: "h-10", fields: #"{"email":"ana.ruiz@acme.io","job_title":"Chief Financial Officer"}"#))])
        try await waitUntilProcessed(9)
        // A poison message for the dead-letter pages (the <b> must come back as text).
        try await publish([("crm.events.v1", "poison", "{not json <b>")])
        try await waitUntilProcessed(10)
    }

    private func publish(_ messages: [(topic: String, key: String, json: String)]) async throws {
        _ = try await FailureSupport.produce(messages.map { ProducerMessage(topic: $0.topic, key: Array($0.key.utf8), value: Array($0.json.utf8)) },
                                             to: broker.bootstrapServers)
    }

    private func waitUntilProcessed(_ total: Int) async throws {
        while ((try await storeStats(store, requireSuccess: false)["events"] as? [String: Int])?["total"] ?? 0) < total {
            guard await processor.waitForLine(containing: "batch committed") != nil else {
                Issue.record("crmsync run ended before \(total) events were processed")
                return
            }
        }
    }

    /// `review list --status S --json` for the three deal conflicts: request id → the id of
    /// the event that raised it.
    func reviews(status: String) async throws -> [String: String] {
        try await allReviews(status: status).filter { $0.value.hasPrefix("deal-") }
    }

    func allReviews(status: String) async throws -> [String: String] {
        let list = try await crmsync(["review", "list", "--status", status, "--json", "--store", store])
        let rows = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
        return Dictionary(uniqueKeysWithValues: rows.compactMap { row in
            (row["id"] as? String).map { ($0, row["event_id"] as? String ?? "") }
        })
    }

    private func record(_ external: String) async throws -> [String: Any]? {
        let result = try await crmsync(["records", "get", "--external", external, "--json", "--store", store])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    }

    func amount(_ external: String) async throws -> Int? {
        (try await record(external)?["fields"] as? [String: Any])?["amount"] as? Int
    }

    func audit(of external: String) async throws -> [[String: Any]] {
        guard let id = try await record(external)?["id"] as? String else { return [] }
        let trail = try await crmsync(["audit", "--id", id, "--json", "--store", store])
        return (try JSONSerialization.jsonObject(with: Data(trail.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// With CRMSYNC_CONSOLE_BROWSER=1 (scripts/test sets it once Chromium and Selenium are
    /// installed): the same pages in headless Chromium, which approves `third`; screenshots
    /// land in .build/console-screenshots.
    func runBrowserTest(third: String) async throws {
        guard ProcessInfo.processInfo.environment["CRMSYNC_CONSOLE_BROWSER"] == "1" else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let identity = try await allReviews(status: "open").first { $0.value == "map-h-9" }?.key
        process.arguments = ["python3", "\(repositoryRoot)/scripts/console-browser-test.py", "--base", base, "--review", third] + (identity.map { ["--identity", $0] } ?? []) + [
                             "--screenshots", "\(repositoryRoot)/.build/console-screenshots"]
        process.standardOutput = FileHandle.standardError
        try process.run()
        let status = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
        #expect(status == 0, "the browser test failed (its output is above)")
        #expect(try await reviews(status: "approved").keys.contains(third), "the browser's approval reached the store")
        #expect(try await audit(of: "salesforce:006T").last?["actor"] as? String == "rita")
    }

    /// Stops crmsync gracefully (the outbox drains) and reads `review.requests.v1` as JSON documents.
    func stopAndReadReviewTopic() async throws -> [[String: Any]] {
        #expect(await processor.signal(SIGTERM) == 0)
        var logger = Logger(label: "console-test")
        logger.logLevel = .critical
        let records = try await TopicSnapshot.read(topic: "review.requests.v1", partitions: 3, bootstrapServers: broker.bootstrapServers, logger: logger)
        return records.compactMap { try? JSONSerialization.jsonObject(with: Data($0.value ?? [])) as? [String: Any] }
    }

    func stop() async {
        _ = await processor.signal(SIGTERM)
        _ = await broker.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
