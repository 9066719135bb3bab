import Crypto
import CrmsyncConfig
import Foundation
import _CryptoExtras

/// Salted PBKDF2-HMAC-SHA256 password hashes, `pbkdf2-sha256$ROUNDS$SALT$KEY` (base64), as
/// stored in `console.users.NAME.password_hash`.
public enum PasswordHash {
    /// OWASP's floor for PBKDF2-HMAC-SHA256 (and swift-crypto's checked minimum).
    public static let rounds = 210_000

    /// A new hash of `password` with a random 16-byte salt.
    public static func make(password: String) throws -> String {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let key = try derive(password: password, salt: salt, rounds: rounds)
        return "\(ConsoleSettings.hashPrefix)\(rounds)$\(salt.base64EncodedString())$\(key.base64EncodedString())"
    }

    /// Whether `password` matches `encoded`; false for a malformed hash (config loading has
    /// already refused those).
    public static func verify(password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, "\(parts[0])$" == ConsoleSettings.hashPrefix, let rounds = Int(parts[1]), rounds >= 1,
              let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
              let actual = try? derive(password: password, salt: salt, rounds: rounds, length: expected.count) else {
            return false
        }
        return constantTimeEqual(actual, expected)
    }

    private static func derive(password: String, salt: Data, rounds: Int, length: Int = 32) throws -> Data {
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Data(password.utf8), salt: salt, using: .sha256,
                                                    outputByteCount: length, unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Data($0) }
    }

    /// Compares without an early exit, so timing does not tell how much of a guess was right.
    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
