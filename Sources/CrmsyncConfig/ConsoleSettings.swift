import ConfigFiles

/// Who may sign in to the web console (`console:` in crmsync.yml) and how its cookie is set.
public struct ConsoleSettings: Sendable, Hashable {
    /// A console role; each one can do what the one before can, and more.
    public enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
        /// Reads the queue, records and health; decides nothing.
        case viewer
        /// Also approves and rejects review requests.
        case reviewer
        /// Everything a reviewer can (reserved for console settings to come).
        case admin

        private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    }

    /// One console user. The password is stored only as a salted PBKDF2 hash
    /// (`crmsync console hash-password` makes one).
    public struct User: Sendable, Hashable {
        public var name: String
        public var role: Role
        /// `pbkdf2-sha256$ROUNDS$SALT$KEY` (salt and key in base64).
        public var passwordHash: String

        public init(name: String, role: Role, passwordHash: String) {
            self.name = name
            self.role = role
            self.passwordHash = passwordHash
        }
    }

    /// By name.
    public var users: [String: User] = [:]
    /// Adds `Secure` to the session cookie: set it when the console is served behind TLS.
    public var secureCookie = false
    /// A session ends after this long without a request.
    public var sessionMinutes = 480

    public init() {}

    /// The hash scheme prefix, checked at start-up so a pasted plain password fails loudly.
    public static let hashPrefix = "pbkdf2-sha256$"

    /// Reads the `console:` section.
    static func apply(_ section: YAMLReader, to settings: inout ConsoleSettings) throws(ConfigError) {
        let keys = try section.mapping(knownKeys: ["users", "secure_cookie", "session_minutes"])
        if let secure = keys["secure_cookie"] {
            settings.secureCookie = try secure.bool()
        }
        if let minutes = keys["session_minutes"] {
            settings.sessionMinutes = try minutes.int(in: 1...10_080)
        }
        if let users = keys["users"] {
            for (name, entry) in try users.entries() {
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) }) else {
                    throw entry.error("a user name may hold letters, digits and . _ - @ only")
                }
                let fields = try entry.mapping(knownKeys: ["role", "password_hash"])
                guard let roleReader = fields["role"] else { throw entry.error("missing role (viewer, reviewer or admin)") }
                let roleName = try roleReader.nonEmptyString()
                guard let role = Role(rawValue: roleName) else {
                    throw roleReader.error("unknown role \"\(roleName)\" (expected viewer, reviewer or admin)")
                }
                guard let hashReader = fields["password_hash"] else {
                    throw entry.error("missing password_hash (make one with `crmsync console hash-password`)")
                }
                let hash = try hashReader.nonEmptyString()
                guard hash.hasPrefix(hashPrefix), hash.split(separator: "$").count == 4 else {
                    throw hashReader.error("not a password hash (expected \(hashPrefix)…, made by `crmsync console hash-password`)")
                }
                settings.users[name] = User(name: name, role: role, passwordHash: hash)
            }
        }
    }
}
