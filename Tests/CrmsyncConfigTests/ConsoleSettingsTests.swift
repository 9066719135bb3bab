import ConfigFiles
import CrmsyncConfig
import Testing

@Suite("console: users, roles and cookie settings in crmsync.yml")
struct ConsoleSettingsTests {
    private static let hash = "pbkdf2-sha256$210000$c2FsdHNhbHRzYWx0c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U="

    private func apply(_ text: String) throws(ConfigError) -> CrmsyncConfiguration {
        var configuration = CrmsyncConfiguration()
        try ConfigurationLoader.apply(fileText: text, file: "crmsync.yml", to: &configuration)
        return configuration
    }

    @Test("users with roles and hashes; secure cookie and session length")
    func parses() throws {
        let configuration = try apply("""
        console:
          secure_cookie: true
          session_minutes: 60
          users:
            rita: { role: reviewer, password_hash: "\(Self.hash)" }
            vic: { role: viewer, password_hash: "\(Self.hash)" }
        """)
        #expect(configuration.console.users["rita"]?.role == .reviewer)
        #expect(configuration.console.users["vic"]?.role == .viewer)
        #expect(configuration.console.secureCookie)
        #expect(configuration.console.sessionMinutes == 60)
        #expect(ConsoleSettings.Role.viewer < .reviewer && ConsoleSettings.Role.reviewer < .admin)
    }

    @Test("no console section: no users, cookie not Secure")
    func defaults() throws {
        let configuration = try apply("store: x.sqlite")
        #expect(configuration.console.users.isEmpty)
        #expect(!configuration.console.secureCookie)
    }

    @Test("bad entries fail with one line naming file, line and key", arguments: [
        ("    rita: { role: boss, password_hash: \"\(hash)\" }", "console.users.rita.role: unknown role \"boss\""),
        ("    rita: { role: viewer, password_hash: hunter2 }", "console.users.rita.password_hash: not a password hash"),
        ("    rita: { role: viewer }", "console.users.rita: missing password_hash"),
        ("    rita: { password_hash: \"\(hash)\" }", "console.users.rita: missing role"),
        ("    rita: { role: viewer, password_hash: \"\(hash)\", email: r@x }", "console.users.rita.email: unknown key"),
    ])
    func errors(line: String, expected: String) {
        do {
            _ = try apply("console:\n  users:\n\(line)")
            Issue.record("accepted \(line)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(error.description.hasPrefix("crmsync.yml:3:"), "names the file and line: \(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }
}
