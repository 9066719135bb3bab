import Foundation
import HTTPServer
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded

/// The console's real routes driven in process, without a socket: `crmsync console bench` times
/// pages through it and the console's tests sign in, post forms and read pages with it. Each
/// request runs the same handlers `crmsync run --http-addr` serves (sessions, CSRF, throttle).
public struct ConsolePages: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        /// Cookie name → value of every Set-Cookie (an empty value clears the cookie).
        /// (`headers` is keyed by lowercase name.)
        public var cookies: [String: String]
    }

    private let responder: RouterResponder<OperationsRequestContext>
    private let logger: Logger

    public init(routes: ConsoleRoutes, logger: Logger) {
        let router = Router(context: OperationsRequestContext.self)
        routes.addRoutes(to: router)
        responder = router.buildResponder()
        self.logger = logger
    }

    public func get(_ path: String, cookies: [String: String] = [:], from address: String = "127.0.0.1") async throws -> Reply {
        try await send(.get, path, body: "", cookies: cookies, address: address)
    }

    public func post(_ path: String, form: [String: String], cookies: [String: String] = [:], from address: String = "127.0.0.1") async throws -> Reply {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return try await send(.post, path, body: body, cookies: cookies, address: address)
    }

    /// Signs in through the form (GET for the token, POST); the cookies to send afterwards, or
    /// nil with the POST's reply when it did not sign in.
    public func signIn(_ name: String, _ password: String, from address: String = "127.0.0.1") async throws -> (cookies: [String: String]?, reply: Reply) {
        let form = try await get("/console/signin", from: address)
        let token = Self.csrf(in: form.body) ?? ""
        let reply = try await post("/console/signin", form: ["csrf": token, "name": name, "password": password], cookies: form.cookies, from: address)
        guard let session = reply.cookies[ConsoleRoutes.sessionCookie], !session.isEmpty else { return (nil, reply) }
        return ([ConsoleRoutes.sessionCookie: session], reply)
    }

    /// The value of the first hidden `csrf` input of a page.
    public static func csrf(in page: String) -> String? {
        guard let range = page.range(of: #"name="csrf" value=""#) else { return nil }
        let rest = page[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String, cookies: [String: String], address: String) async throws -> Reply {
        var head = HTTPRequest(method: method, scheme: "http", authority: "console.test", path: path)
        if !cookies.isEmpty { head.headerFields[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if method == .post { head.headerFields[.contentType] = "application/x-www-form-urlencoded" }
        let channel = EmbeddedChannel()
        channel.remoteAddress = try SocketAddress(ipAddress: address, port: 40_000)
        let context = OperationsRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        let response = try await responder.respond(to: Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body))), context: context)
        let collected = CollectedBody()
        try await response.body.write(CollectingWriter(into: collected))
        var headers: [String: String] = [:]
        var setCookies: [String: String] = [:]
        for field in response.headers {
            if field.name == .setCookie {
                let pair = field.value.split(separator: ";").first.map(String.init) ?? ""
                if let equals = pair.firstIndex(of: "=") {
                    setCookies[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
                }
            }
            headers[field.name.canonicalName] = field.value
        }
        return Reply(status: Int(response.status.code), headers: headers, body: String(buffer: collected.buffer), cookies: setCookies)
    }
}

/// A response body gathered in memory (a class: the body consumes its writer).
private final class CollectedBody {
    var buffer = ByteBuffer()
}

private struct CollectingWriter: ResponseBodyWriter {
    let into: CollectedBody

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        into.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
