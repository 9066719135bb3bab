import Hummingbird
import NIOCore

/// The request context of `--http-addr`'s server: Hummingbird's basic one plus the client's
/// address (the console limits failed sign-ins per address as well as per user name).
public struct OperationsRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer of the connection (a reverse proxy's address when there is one in front).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
