@testable import Normalize
import PropertyBased
import Testing

/// `trimmingWhitespace` skips the scalar-by-scalar trim when both ends are ASCII and not
/// whitespace; the result is byte for byte what the scalar trim gives.
@Suite struct TrimFastPathTests {
    static let alphabet: [Character] = Array("aZ09 \t\n\r\u{0B}\u{0C}\u{1C}\u{0}\u{7F}-.é\u{301}\u{A0}\u{85}\u{2003}\u{3000}\u{200B}\u{FEFF}二👍")

    @Test func trimmingWhitespaceMatchesTheScalarTrim() async {
        await propertyCheck(count: 3000, input: Gen.element(of: Self.alphabet).compactMap { $0 }.string(of: 0...16)) { raw in
            #expect(Array(raw.trimmingWhitespace.utf8) == Array(raw.trimmingWhitespaceByScalar.utf8), "\(raw.debugDescription)")
        }
        for byte in UInt8(0)..<0x80 {
            let text = String(UnicodeScalar(byte)) + "x" + String(UnicodeScalar(byte))
            #expect(Array(text.trimmingWhitespace.utf8) == Array(text.trimmingWhitespaceByScalar.utf8), "byte \(byte)")
        }
    }
}
