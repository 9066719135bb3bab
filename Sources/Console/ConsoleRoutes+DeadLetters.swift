import CRMModel
import DeadLetters
import Kafka
import Hummingbird

/// The dead-letter pages: a class's letters, newest first, a page at a time, and one letter's
/// content as `crmsync dlq show` prints it (reason, class, position, headers, original bytes).
extension ConsoleRoutes {
    static let letterPageSize = 25

    func deadLetterList(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = request.uri.queryParameters
        let errorClass = query.get("class").flatMap { $0.isEmpty ? nil : String($0) }
        let page = max(0, query.get("page").flatMap(Int.init) ?? 0)
        var context = base(session, title: "Dead letters", nav: "navHealth")
        context["errorClass"] = errorClass ?? "every class"
        context["dlqTopic"] = topics.dlq
        guard let deadLetters else {
            context["unavailable"] = "This crmsync has no broker to read \(topics.dlq) from; use `crmsync dlq list`."
            return render("deadLetters", context)
        }
        let result: DeadLetterPage
        do {
            result = try await deadLetters.letters(errorClass: errorClass, page: page, pageSize: Self.letterPageSize)
        } catch {
            context["unavailable"] = "Cannot read \(topics.dlq): \(error)"
            return render("deadLetters", context, status: .serviceUnavailable)
        }
        let now = self.now()
        func link(_ page: Int) -> String {
            "/console/dead-letters?" + (errorClass.map { "class=\(DeadLetterViews.query($0))&" } ?? "") + "page=\(page)"
        }
        context["letters"] = result.entries.map { DeadLetterViews.row($0, now: now) }
        context["hasLetters"] = !result.entries.isEmpty
        context["pageNumber"] = page + 1
        if page > 0 { context["previous"] = link(page - 1) }
        if result.hasMore { context["next"] = link(page + 1) }
        context["scanNote"] = result.truncated
            ? "Read the newest \(DeadLetterPage.scanLimit) letters of each partition (\(result.scanned) in all); older ones: `crmsync dlq list`."
            : "Read all \(result.scanned) letters on \(topics.dlq)."
        return render("deadLetters", context)
    }

    func deadLetterPage(_ position: LetterPosition?, _ session: ConsoleSession) async throws -> Response {
        guard let position else {
            return message(session, status: .badRequest, heading: "No such letter", text: "A letter is named by its partition and offset.")
        }
        guard let deadLetters else {
            return message(session, status: .serviceUnavailable, heading: "Dead letters",
                           text: "This crmsync has no broker to read \(topics.dlq) from; use `crmsync dlq show \(position)`.")
        }
        let found: (entry: DeadLetterEntry, headers: [KafkaHeader])?
        do {
            found = try await deadLetters.letter(at: position).map { ($0.entry, $0.headers) }
        } catch {
            return message(session, status: .serviceUnavailable, heading: "Dead letters", text: "Cannot read \(topics.dlq): \(error)")
        }
        guard let found else {
            return message(session, status: .notFound, heading: "No such letter",
                           text: "\(topics.dlq) has no crmsync dead letter at \(position) (expired, or beyond the end).")
        }
        var context = base(session, title: "Dead letter \(position)", nav: "navHealth")
        context.merge(DeadLetterViews.detail(found.entry, headers: found.headers, dlqTopic: topics.dlq)) { $1 }
        return render("deadLetter", context)
    }
}
