import Crypto
import CrmsyncConfig
import Foundation

/// A signed-in user's session: the cookie carries `token`, every form carries `csrf`.
public struct ConsoleSession: Sendable, Hashable {
    public var token: String
    public var csrf: String
    public var user: String
    public var role: ConsoleSettings.Role
    var lastSeen: Date
}

/// Sessions in memory: a restart signs everyone out, which is acceptable for one process
/// serving a handful of reviewers (and leaves no session secrets on disk).
public actor SessionStore {
    private var sessions: [String: ConsoleSession] = [:]
    private let idleTimeout: TimeInterval

    public init(idleMinutes: Int) {
        idleTimeout = TimeInterval(idleMinutes * 60)
    }

    /// Starts a session for a user whose password was just checked.
    public func start(user: ConsoleSettings.User, now: Date = Date()) -> ConsoleSession {
        sessions = sessions.filter { now.timeIntervalSince($0.value.lastSeen) < idleTimeout }
        let session = ConsoleSession(token: Self.randomToken(), csrf: Self.randomToken(), user: user.name, role: user.role, lastSeen: now)
        sessions[session.token] = session
        return session
    }

    /// The live session for a cookie value, its idle clock restarted; nil when unknown or expired.
    public func session(token: String, now: Date = Date()) -> ConsoleSession? {
        guard var session = sessions[token] else { return nil }
        guard now.timeIntervalSince(session.lastSeen) < idleTimeout else {
            sessions[token] = nil
            return nil
        }
        session.lastSeen = now
        sessions[token] = session
        return session
    }

    public func end(token: String) {
        sessions[token] = nil
    }

    /// 256 random bits, base64url (cookie- and form-safe).
    static func randomToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
