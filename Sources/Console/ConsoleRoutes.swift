import CRMModel
import CrmsyncConfig
import Dedup
import DeadLetters
import Foundation
import HTTPServer
import Hummingbird
import Logging
import Mustache
import NIOCore
import Pipeline
import Store

/// The web console's routes under `/console`, for the `--http-addr` server (a route
/// contributor: `addRoutes(to:)`). Every page needs a signed-in user; `/metrics` and the
/// probes are not the console's and stay open.
public struct ConsoleRoutes: Sendable {
    /// Decides a review request exactly as `crmsync review approve|reject` does
    /// (``WriteStage/resolveReview(id:decision:actor:comment:)``).
    public typealias Decide = @Sendable (_ id: String, _ decision: ReviewDecision, _ actor: String, _ comment: String?) throws -> ReviewResolutionResult
    /// The consumer's lag per assigned partition (what `crmsync_consumer_lag` exports); nil when unknown.
    public typealias LagReader = @Sendable () async -> [PartitionLag]?

    let settings: ConsoleSettings
    let store: SQLiteStore
    let topics: (audit: String, dlq: String)
    let decide: Decide
    let sessions: SessionStore
    let templates: MustacheLibrary
    let logger: Logger
    let now: @Sendable () -> Timestamp
    let deadLetters: (any DeadLetterBrowser)?
    let consumerLag: LagReader?
    let throttle: SignInThrottle

    static let sessionCookie = "crmsync_session"
    static let signinCookie = "crmsync_signin"
    static let pageSize = 25

    /// `deadLetters` reads the DLQ for the dead-letter pages (nil: the pages say they cannot);
    /// `consumerLag` gives the health page its lag table (nil: not shown).
    public init(settings: ConsoleSettings, store: SQLiteStore, auditTopic: String, dlqTopic: String,
                logger: Logger, now: @escaping @Sendable () -> Timestamp, deadLetters: (any DeadLetterBrowser)? = nil,
                consumerLag: LagReader? = nil, throttle: SignInThrottle = SignInThrottle(), decide: @escaping Decide) throws {
        self.settings = settings
        self.store = store
        self.topics = (auditTopic, dlqTopic)
        self.decide = decide
        self.sessions = SessionStore(idleMinutes: settings.sessionMinutes)
        self.templates = try Templates.library()
        self.logger = logger
        self.now = now
        self.deadLetters = deadLetters
        self.consumerLag = consumerLag
        self.throttle = throttle
    }

    public func addRoutes(to router: Router<OperationsRequestContext>) {
        router.get("/console") { _, _ in Response.redirect(to: "/console/reviews", type: .found) }
        router.get("/console/static/console.css") { _, _ in
            Self.respond(.ok, contentType: "text/css; charset=utf-8", Stylesheet.css, cache: "max-age=3600")
        }
        router.get("/console/signin") { request, _ in await signinPage(request) }
        router.post("/console/signin") { request, context in try await signIn(request, address: context.remoteAddress?.ipAddress) }
        router.post("/console/signout") { request, _ in try await signOut(request) }
        router.get("/console/reviews") { request, _ in try await signedIn(request) { try queuePage(request, $0) } }
        router.get("/console/reviews/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await signedIn(request) { try requestPage(id: id, $0) }
        }
        router.post("/console/reviews/:id/decide") { request, context in
            try await decideReview(request, id: context.parameters.get("id") ?? "")
        }
        router.get("/console/records") { request, _ in try await signedIn(request) { try recordPage(request, $0) } }
        router.get("/console/health") { request, _ in
            guard let session = await session(of: request) else { return Response.redirect(to: "/console/signin", type: .found) }
            return try await healthPage(session)
        }
        router.get("/console/dead-letters") { request, _ in
            guard let session = await session(of: request) else { return Response.redirect(to: "/console/signin", type: .found) }
            return try await deadLetterList(request, session)
        }
        router.get("/console/dead-letters/:partition/:offset") { request, context in
            guard let session = await session(of: request) else { return Response.redirect(to: "/console/signin", type: .found) }
            let position = LetterPosition(parsing: "\(context.parameters.get("partition") ?? ""):\(context.parameters.get("offset") ?? "")")
            return try await deadLetterPage(position, session)
        }
    }

    // MARK: Pages

    private func queuePage(_ request: Request, _ session: ConsoleSession) throws -> Response {
        let query = request.uri.queryParameters
        let kind = query.get("kind").flatMap(ReviewKind.init(rawValue:))
        let source = query.get("source").flatMap { ReviewViews.sources.contains($0) ? $0 : nil }
        let page = max(0, query.get("page").flatMap(Int.init) ?? 0)
        let result = try store.reviewQueue(kind: kind, source: source, page: page, pageSize: Self.pageSize)
        let now = self.now()
        func link(_ page: Int) -> String {
            var parts = ["page=\(page)"]
            if let kind { parts.append("kind=\(kind.rawValue)") }
            if let source { parts.append("source=\(source)") }
            return "/console/reviews?" + parts.joined(separator: "&")
        }
        var context = base(session, title: "Review queue", nav: "navReviews")
        context["openCount"] = try store.openReviewCount()
        context["rows"] = result.requests.map { ReviewViews.row($0, now: now) }
        context["hasRows"] = !result.requests.isEmpty
        context["kinds"] = [("", "All kinds"), ("identity", "Identity: is it the same person?"), ("field", "Field: which value is right?")].map {
            ["value": $0.0, "label": $0.1, "selected": $0.0 == (kind?.rawValue ?? "")] as [String: Any]
        }
        context["sources"] = ([("", "All sources")] + ReviewViews.sources.map { ($0, $0) }).map {
            ["value": $0.0, "label": $0.1, "selected": $0.0 == (source ?? "")] as [String: Any]
        }
        context["pageNumber"] = page + 1
        if page > 0 { context["previous"] = link(page - 1) }
        if result.hasMore { context["next"] = link(page + 1) }
        if let decided = query.get("decided"), let status = query.get("status") {
            context["flash"] = "Review request \(decided) \(status)."
        }
        return render("queue", context)
    }

    private func requestPage(id: String, _ session: ConsoleSession) throws -> Response {
        let found = try store.read { reader -> (ReviewRequest, [GoldenID: GoldenRecord], GoldenRecord?)? in
            guard let request = try reader.reviewRequest(id) else { return nil }
            var candidates: [GoldenID: GoldenRecord] = [:]
            for candidate in request.candidates.prefix(5) {
                candidates[candidate.goldenID] = try reader.record(candidate.goldenID)
            }
            return (request, candidates, try request.goldenID.flatMap { try reader.record($0) })
        }
        guard let (request, candidates, current) = found else {
            return message(session, status: .notFound, heading: "Not found", text: "There is no review request \(id).")
        }
        var context = base(session, title: "Review \(id)", nav: "navReviews")
        context.merge(ReviewViews.request(request, candidates: candidates, current: current, now: now())) { $1 }
        context["canDecide"] = session.role >= .reviewer
        return render("request", context)
    }

    private func recordPage(_ request: Request, _ session: ConsoleSession) throws -> Response {
        var context = base(session, title: "Records", nav: "navRecords")
        let query = request.uri.queryParameters.get("q") ?? ""
        context["query"] = query
        guard !query.trimmingCharacters(in: .whitespaces).isEmpty else { return render("record", context) }
        let auditPage = request.uri.queryParameters.get("audit_page").flatMap(Int.init) ?? 0
        let absorbed = request.uri.queryParameters.get("absorbed") == "1"
        let topic = topics.audit
        let found = try store.read { reader -> Result<[String: Any], RecordViews.LookupFailure> in
            switch try RecordViews.find(query, reader: reader) {
            case .failure(let failure): return .failure(failure)
            case .success(let id):
                guard let record = try RecordViews.record(requested: id, reader: reader, auditTopic: topic, auditPage: auditPage, absorbed: absorbed) else {
                    return .failure(RecordViews.LookupFailure(message: "Record \(id) no longer exists (purged)."))
                }
                return .success(record)
            }
        }
        switch found {
        case .success(let record): context["record"] = record
        case .failure(let failure): context["notFound"] = failure.message
        }
        return render("record", context)
    }

    private func healthPage(_ session: ConsoleSession) async throws -> Response {
        var context = base(session, title: "Health", nav: "navHealth")
        let snapshot = try store.operationsSnapshot()
        let lag = await consumerLag?()
        let now = self.now()
        context.merge(try store.read { try HealthViews.health(reader: $0, snapshot: snapshot, lag: lag, now: now) }) { $1 }
        return render("health", context)
    }

    // MARK: Decisions

    private func decideReview(_ request: Request, id: String) async throws -> Response {
        guard let session = await session(of: request) else { return Response.redirect(to: "/console/signin", type: .normal) }
        let form = try await Self.form(request)
        guard form["csrf"] == session.csrf else { return forbidden(session, "The form was missing its security token. Reload the page and try again.") }
        guard session.role >= .reviewer else { return forbidden(session, "Your role (\(session.role.rawValue)) cannot decide review requests.") }
        let decision: ReviewDecision
        switch form["decision"] {
        case "approve": decision = .approve(into: form["into"].flatMap { $0.isEmpty ? nil : $0 })
        case "reject": decision = .reject
        default: return message(session, status: .badRequest, heading: "No decision", text: "Choose approve or reject.")
        }
        do {
            let result = try decide(id, decision, session.user, form["comment"])
            logger.notice("console: \(session.user) \(result.status.rawValue) \(id)")
            return Response.redirect(to: "/console/reviews?decided=\(result.reviewID)&status=\(result.status.rawValue)", type: .normal)
        } catch let error as ReviewResolutionError {
            return message(session, status: .conflict, heading: "Could not decide \(id)", text: error.description)
        }
    }

    // MARK: Signing in and out

    private func signinPage(_ request: Request) async -> Response {
        if await session(of: request) != nil { return Response.redirect(to: "/console/reviews", type: .found) }
        return signinForm(status: .ok, error: nil)
    }

    private func signinForm(status: HTTPResponse.Status, error: String?) -> Response {
        // Login CSRF: the form's token must match a cookie only this page sets.
        let token = SessionStore.randomToken()
        var context: [String: Any] = ["title": "Sign in", "csrf": token, "signedIn": false]
        if let error { context["flash"] = error; context["flashKind"] = "error" }
        var response = render("signin", context, status: status)
        response.setCookie(cookie(Self.signinCookie, token, maxAge: 1_800))
        return response
    }

    private func signIn(_ request: Request, address: String?) async throws -> Response {
        let form = try await Self.form(request)
        guard let expected = request.cookies[Self.signinCookie]?.value, form["csrf"] == expected else {
            return Self.respond(.forbidden, contentType: "text/plain; charset=utf-8", "missing or wrong CSRF token")
        }
        let name = form["name"] ?? ""
        // Checked before the password, so a blocked guess costs no hashing and says nothing.
        let keys: [SignInThrottle.Key] = [.user(name)] + (address.map { [.address($0)] } ?? [])
        if let wait = await throttle.retryAfter(keys) {
            logger.notice("console: sign-in refused, too many failures (\(name.count) character name, address \(address ?? "?"))")
            let minutes = max(1, (wait + 59) / 60)
            var response = signinForm(status: .tooManyRequests,
                                      error: "Too many failed sign-ins for this user name or from this address. Try again in \(minutes) minute\(minutes == 1 ? "" : "s").")
            response.headers[.retryAfter] = String(wait)
            return response
        }
        // Hash even for an unknown name, so timing does not tell which names exist.
        let user = settings.users[name]
        let matches = PasswordHash.verify(password: form["password"] ?? "", against: user?.passwordHash ?? Self.decoyHash)
        guard let user, matches else {
            await throttle.fail(keys)
            logger.notice("console: failed sign-in for \(name.count) character name")
            return signinForm(status: .unauthorized, error: "Wrong user name or password.")
        }
        await throttle.succeed(user: name)
        let session = await sessions.start(user: user)
        var response = Response.redirect(to: "/console/reviews", type: .normal)
        response.setCookie(cookie(Self.sessionCookie, session.token, maxAge: settings.sessionMinutes * 60))
        response.setCookie(cookie(Self.signinCookie, "", maxAge: 0))
        return response
    }

    private func signOut(_ request: Request) async throws -> Response {
        if let session = await session(of: request) {
            let form = try await Self.form(request)
            guard form["csrf"] == session.csrf else { return forbidden(session, "The form was missing its security token.") }
            await sessions.end(token: session.token)
        }
        var response = Response.redirect(to: "/console/signin", type: .normal)
        response.setCookie(cookie(Self.sessionCookie, "", maxAge: 0))
        return response
    }

    /// A valid hash of a random password, verified against when the name is unknown.
    static let decoyHash = (try? PasswordHash.make(password: SessionStore.randomToken())) ?? ""

    // MARK: Plumbing

    func session(of request: Request) async -> ConsoleSession? {
        guard let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty else { return nil }
        return await sessions.session(token: token)
    }

    private func signedIn(_ request: Request, _ page: (ConsoleSession) throws -> Response) async throws -> Response {
        guard let session = await session(of: request) else { return Response.redirect(to: "/console/signin", type: .found) }
        return try page(session)
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/console", secure: settings.secureCookie, httpOnly: true, sameSite: .strict)
    }

    func base(_ session: ConsoleSession, title: String, nav: String) -> [String: Any] {
        ["title": title, "signedIn": true, "userName": session.user, "roleName": session.role.rawValue, "csrf": session.csrf, nav: true]
    }

    func render(_ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = templates.render(context, withTemplate: template) ?? "template \(template) missing"
        return Self.respond(status, contentType: "text/html; charset=utf-8", html, cache: "no-store")
    }

    func message(_ session: ConsoleSession, status: HTTPResponse.Status, heading: String, text: String) -> Response {
        var context = base(session, title: heading, nav: "navReviews")
        context["heading"] = heading
        context["text"] = text
        return render("message", context, status: status)
    }

    private func forbidden(_ session: ConsoleSession, _ text: String) -> Response {
        message(session, status: .forbidden, heading: "Not allowed", text: text)
    }

    static func form(_ request: Request) async throws -> FormBody {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        return FormBody(String(buffer: buffer))
    }

    static func respond(_ status: HTTPResponse.Status, contentType: String, _ text: String, cache: String = "no-store") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = cache
        // No scripts at all, no framing: a value that slipped past escaping still could not run.
        headers[.contentSecurityPolicy] = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'none'; frame-ancestors 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
