import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Adds a concern's routes to the shared server (`/metrics` and the probes now; the web console
/// mounts its own the same way).
public protocol RouteContributor: Sendable {
    func addRoutes(to router: Router<OperationsRequestContext>)
}

/// `--http-addr`'s server as a lifecycle service. Listens on `host:port` (port 0: any free
/// port) and logs the bound address in one line: `http server listening on HOST:PORT`.
public struct OperationsServer: Service {
    private let host: String
    private let port: Int
    private let contributors: [any RouteContributor]
    private let logger: Logger
    private let onListening: @Sendable (String, Int) -> Void

    public init(host: String, port: Int, contributors: [any RouteContributor], logger: Logger,
                onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }) {
        self.host = host
        self.port = port
        self.contributors = contributors
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let router = Router(context: OperationsRequestContext.self)
        for contributor in contributors { contributor.addRoutes(to: router) }
        let logger = self.logger
        let onListening = self.onListening
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "crmsync"),
            onServerRunning: { channel in
                let address = channel.localAddress
                let host = address?.ipAddress ?? "?"
                let port = address?.port ?? 0
                logger.notice("http server listening on \(host):\(port)")
                onListening(host, port)
            },
            logger: logger
        )
        try await app.run()
    }
}
